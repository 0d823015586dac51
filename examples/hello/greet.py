"""A tiny module for trying `orchestrate run examples/hello/plan.md`."""


def greet(name: str) -> str:
    """Greet `name`, e.g. `greet("Ada") == "Hello, Ada!"`."""
    return "Hello " + name
