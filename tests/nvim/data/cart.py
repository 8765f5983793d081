def total(prices):
    result = 0
    for p in prices:
        result = result + p
    return result


def count(items):
    return len(items)


def label(name):
    return name.title()
