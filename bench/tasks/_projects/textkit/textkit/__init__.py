"""textkit: text helpers built on copies of three CPython modules (see ORIGIN.md)."""
