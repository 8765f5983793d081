import pytest

from inventory import Inventory, Item


def make_inventory():
    inv = Inventory()
    inv.add(Item("bolt", 100, 0.1, "A1"))
    inv.add(Item("nut", 3, 0.05))
    inv.add(Item("washer", 2, 0.02, "B2"))
    return inv


def test_add_merges_quantities():
    inv = make_inventory()
    inv.add(Item("bolt", 20, 0.1))
    assert inv.items["bolt"].quantity == 120


def test_remove_and_errors():
    inv = make_inventory()
    inv.remove("nut", 3)
    assert "nut" not in inv.items
    with pytest.raises(KeyError):
        inv.remove("nut", 1)
    with pytest.raises(ValueError):
        inv.remove("bolt", 1000)


def test_low_stock_and_value():
    inv = make_inventory()
    assert inv.low_stock() == ["nut", "washer"]
    assert inv.value() == pytest.approx(100 * 0.1 + 3 * 0.05 + 2 * 0.02)


def test_describe():
    assert Item("nut", 3, 0.05).describe() == "nut x3 (unplaced)"
    assert Item("bolt", 1, 0.1, "A1").describe() == "bolt x1 at A1"


def test_save_and_load(tmp_path):
    inv = make_inventory()
    path = inv.save(str(tmp_path / "out"))
    again = Inventory.load(path)
    assert sorted(again.items) == ["bolt", "nut", "washer"]
    assert again.items["bolt"].location == "A1"
