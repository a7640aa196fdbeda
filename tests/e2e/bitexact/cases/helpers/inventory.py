"""A tiny inventory model used by main_guard_helper_import.py."""

LOADED_AS = __name__


class Item:
    def __init__(self, sku, name, qty, price_cents):
        self.sku = sku
        self.name = name
        self.qty = qty
        self.price_cents = price_cents

    @property
    def value_cents(self):
        return self.qty * self.price_cents

    def __repr__(self):
        return "Item(%r, %r, qty=%d)" % (self.sku, self.name, self.qty)


class Inventory:
    def __init__(self):
        self._items = {}

    def add(self, item):
        if item.sku in self._items:
            self._items[item.sku].qty += item.qty
        else:
            self._items[item.sku] = item

    def remove(self, sku, qty):
        item = self._items[sku]
        if qty > item.qty:
            raise ValueError("not enough %s: have %d, want %d" % (sku, item.qty, qty))
        item.qty -= qty

    def total_cents(self):
        return sum(i.value_cents for i in self._items.values())

    def __iter__(self):
        return iter(sorted(self._items.values(), key=lambda i: i.sku))


def format_cents(c):
    return "%s$%d.%02d" % ("-" if c < 0 else "", abs(c) // 100, abs(c) % 100)


if __name__ == "__main__":
    print("helpers.inventory run directly")
