def page(items, number, size):
    """Page `number` (1-based) of `items`, `size` items per page."""
    return items[number * size : (number + 1) * size]
