import os


DEFAULTS = {"currency": "USD", "low_stock_threshold": "5", "data_dir": "data"}


def parse_line(line):
    line = line.strip()
    if line == "" or line.startswith("#"):
        return None
    if not "=" in line:
        raise ValueError("expected key=value, got %r" % line)
    key, value = line.split("=", 1)
    return key.strip(), value.strip()


def load_settings(path):
    settings = dict(DEFAULTS)
    if os.path.isfile(path) == False:
        return settings
    for line in open(path).read().splitlines():
        pair = parse_line(line)
        if pair != None:
            settings[pair[0]] = pair[1]
    return settings


def threshold(settings):
    value = settings.get("low_stock_threshold")
    if value == None:
        return 5
    return int(value)


def data_path(settings, base):
    return os.path.join(os.path.abspath(base), settings["data_dir"])
