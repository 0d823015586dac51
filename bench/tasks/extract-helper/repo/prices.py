def with_tax(amount, rate):
    """`amount` plus tax at `rate` (0.2 for 20%), rounded to cents."""
    total = amount * (1 + rate)
    return int(total * 100 + 0.5) / 100


def with_discount(amount, percent):
    """`amount` less `percent` per cent, rounded to cents."""
    total = amount * (1 - percent / 100)
    return int(total * 100 + 0.5) / 100
