"""Dollar amounts as people read them: never `$0.00` for a cap of $0.001 or a cost of $0.00004."""

from __future__ import annotations

_MOST_PLACES = 8


def usd(value: float, places: int = 4) -> str:
    """`$0.0213`; a non-zero amount too small for `places` decimals gets as many as it needs."""
    text = f"{value:.{places}f}"
    if value and float(text) == 0:
        text = f"{value:.{_MOST_PLACES}f}".rstrip("0")
    return f"${text}"


def usd_limit(value: float) -> str:
    """A limit as it was set: `$5.00`, `$0.25`, `$0.001` (at least two decimals, no rounding)."""
    whole, _, cents = f"{value:.{_MOST_PLACES}f}".rstrip("0").partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"
