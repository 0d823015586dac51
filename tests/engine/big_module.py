"""A 5,600-line Python module for tests of large files, made the same way every time."""

from __future__ import annotations

FUNCTIONS = 360


def function(index: int) -> str:
    """One 14-line function whose body is unique to it."""
    body = "".join(f"    total += {index} * {step}\n" for step in range(9))
    return (
        f"def func_{index:03d}(value: int) -> int:\n"
        f'    """Step {index} of the pipeline."""\n'
        f"    total = value\n{body}"
        f"    return total\n\n\n"
    )


def big_module() -> str:
    """A module docstring, imports, one class with methods, then many functions."""
    head = '"""The pipeline."""\n\nimport math\nimport os\n\n\n'
    methods = "".join(
        f"    def method_{n}(self) -> int:\n        return {n}\n\n" for n in range(60)
    )
    cls = f"class Pipeline:\n    name = 'p'\n\n{methods}\n"
    text = head + cls + "".join(function(i) for i in range(FUNCTIONS))
    return text
