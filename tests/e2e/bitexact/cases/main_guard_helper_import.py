"""__main__ guard plus importing a helper module from the helpers/ package beside the script."""
import sys

from helpers import inventory
from helpers.inventory import Inventory, Item, format_cents


def build():
    inv = Inventory()
    inv.add(Item("B-2", "bolt", 500, 15))
    inv.add(Item("A-1", "anvil", 2, 12999))
    inv.add(Item("B-2", "bolt", 250, 15))
    inv.add(Item("C-3", "crate", 12, 2450))
    return inv


def main():
    print("__name__ here:", __name__, "helper module:", inventory.LOADED_AS)
    print("helper file:", inventory.__file__.rsplit("/", 2)[-2:], inventory.__package__)
    inv = build()
    for item in inv:
        print(f"{item.sku:<4} {item.name:<6} {item.qty:>4} {format_cents(item.value_cents):>10}")
    inv.remove("B-2", 100)
    print("total:", format_cents(inv.total_cents()))
    try:
        inv.remove("A-1", 5)
    except ValueError as e:
        print("ValueError:", e)
    print(list(inv))
    print("helpers in sys.modules:", sorted(m for m in sys.modules if m.startswith("helpers")))
    print("main module file is script:", sys.modules["__main__"].__file__ == __file__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
else:
    print("imported, not running")
