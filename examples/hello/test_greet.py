"""The greeting's contract; it fails until the plan's first task is done."""

from greet import greet


def test_greet_uses_a_comma_and_an_exclamation_mark() -> None:
    assert greet("Ada") == "Hello, Ada!"


def test_greet_keeps_the_name_as_given() -> None:
    assert greet("grace hopper") == "Hello, grace hopper!"


if __name__ == "__main__":
    # Runnable without pytest (the plan's check), so the example needs only Python.
    test_greet_uses_a_comma_and_an_exclamation_mark()
    test_greet_keeps_the_name_as_given()
    print("2 passed")
