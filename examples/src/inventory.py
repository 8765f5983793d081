import os
import json


class Item:
    def __init__(self, name, quantity, price, location=None):
        self.name = name
        self.quantity = quantity
        self.price = price
        self.location = location

    def total_value(self):
        return self.quantity * self.price

    def describe(self):
        if self.location == None:
            return "%s x%d (unplaced)" % (self.name, self.quantity)
        return "%s x%d at %s" % (self.name, self.quantity, self.location)


class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, item):
        if self.items.get(item.name) != None:
            self.items[item.name].quantity = self.items[item.name].quantity + item.quantity
        else:
            self.items[item.name] = item

    def remove(self, name, quantity):
        item = self.items.get(name)
        if item == None:
            raise KeyError("no item named %s" % name)
        if quantity > item.quantity:
            raise ValueError("cannot remove %d of %s: only %d left" % (quantity, name, item.quantity))
        item.quantity = item.quantity - quantity
        if item.quantity == 0:
            del self.items[name]

    def low_stock(self, threshold=5):
        result = []
        for name in self.items:
            if self.items[name].quantity < threshold:
                result.append(name)
        result.sort()
        return result

    def value(self):
        total = 0
        for name in self.items:
            total = total + self.items[name].total_value()
        return total

    def save(self, folder, filename="inventory.json"):
        if not os.path.exists(folder):
            os.makedirs(folder)
        path = os.path.join(folder, filename)
        data = []
        for item in self.items.values():
            data.append({"name": item.name, "quantity": item.quantity,
                         "price": item.price, "location": item.location})
        f = open(path, "w")
        f.write(json.dumps(data, indent=2))
        f.close()
        return path

    @classmethod
    def load(cls, path):
        inventory = cls()
        f = open(path)
        data = json.loads(f.read())
        f.close()
        for entry in data:
            inventory.add(Item(entry["name"], entry["quantity"], entry["price"],
                               entry.get("location")))
        return inventory
