from inventory import Inventory, Item
from report import build_report, format_money, report_files, write_report
from settings import load_settings, parse_line, threshold


def test_format_money():
    assert format_money(3) == "$3.00"


def test_report_lists_items_and_low_stock(tmp_path):
    inv = Inventory()
    inv.add(Item("bolt", 100, 0.1))
    inv.add(Item("nut", 2, 0.05))
    text = build_report(inv)
    assert "bolt" in text and "Low stock: nut" in text
    path = write_report(inv, str(tmp_path))
    write_report(inv, str(tmp_path))
    assert report_files(str(tmp_path)) == [path]


def test_settings(tmp_path):
    assert parse_line("# comment") is None
    assert parse_line("a = b") == ("a", "b")
    f = tmp_path / "shop.cfg"
    f.write_text("low_stock_threshold = 7\n")
    settings = load_settings(str(f))
    assert threshold(settings) == 7
    assert load_settings(str(tmp_path / "missing.cfg"))["currency"] == "USD"
