def add_item(inventory, name, count=1):
    """Add `count` of `name`; returns the new count."""
    inventory[name] = inventory.get(name, 0) + count
    return inventory[name]


def total_items(inventory):
    """How many items there are in all."""
    return sum(inventory.values())
