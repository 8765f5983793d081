import os
import datetime


def format_money(amount):
    return "$%.2f" % amount


def summary_line(name, count, total):
    return "%-20s %5d %12s" % (name, count, format_money(total))


def build_report(inventory, title="Inventory report"):
    lines = []
    lines.append(title)
    lines.append("=" * len(title))
    lines.append("Generated: " + datetime.date.today().isoformat())
    lines.append("")
    names = list(inventory.items.keys())
    names.sort()
    for name in names:
        item = inventory.items[name]
        lines.append(summary_line(name, item.quantity, item.total_value()))
    lines.append("")
    lines.append("Total value: " + format_money(inventory.value()))
    low = inventory.low_stock()
    if len(low) > 0:
        lines.append("Low stock: " + ", ".join(low))
    return "\n".join(lines)


def write_report(inventory, folder, name="report.txt"):
    path = os.path.join(folder, name)
    if os.path.exists(path) == True:
        backup = os.path.join(folder, name + ".bak")
        os.replace(path, backup)
    with open(path, "w") as f:
        f.write(build_report(inventory))
    return path


def report_files(folder):
    found = []
    for entry in os.listdir(folder):
        if os.path.splitext(entry)[1] == ".txt":
            found.append(os.path.join(folder, entry))
    return sorted(found)
