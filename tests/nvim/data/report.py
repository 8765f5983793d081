def header(title):
    return "== " + title + " =="


def line(label, value):
    return label + ": " + str(value)
