"""Does an edited file still parse? Python, JSON, YAML and TOML are checked before any commit.

A worker's reply that turns a `.py` file into prose, or leaves a JSON file half-written, must go
back to the worker as feedback, never into a commit. Only languages with a parser at hand are
checked; any other file passes. A file that did not parse before the edit (say, Python newer
than ours) is not held to it after.
"""

from __future__ import annotations

import json
import posixpath
import tomllib
import warnings
from collections.abc import Callable

import yaml

SYNTAX_CHECK = "syntax check (parses as its language)"
"""How the parse check is named in events and reports, beside the shell checks."""
Parser = Callable[[str, str], None]
"""Parses `text` (of file `path`); raises ValueError or SyntaxError when it does not parse."""


def _python(text: str, path: str) -> None:
    # `compile` also catches what the parser lets through (`return` outside a function, ...);
    # it builds a code object without running any of it. Warnings (invalid escapes) are not errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(text, path, "exec", dont_inherit=True)


def _json(text: str, path: str) -> None:
    json.loads(text)


def _yaml(text: str, path: str) -> None:
    try:
        for _ in yaml.safe_load_all(text):
            pass
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from None


def _toml(text: str, path: str) -> None:
    tomllib.loads(text)


PARSERS: dict[str, tuple[str, Parser]] = {
    ".py": ("Python", _python),
    ".pyi": ("Python", _python),
    ".json": ("JSON", _json),
    ".yaml": ("YAML", _yaml),
    ".yml": ("YAML", _yaml),
    ".toml": ("TOML", _toml),
}
"""File suffix → (language, parser)."""


def parse_error(path: str, text: str) -> str | None:
    """Why `text` does not parse as the language of `path`'s suffix; None when it does (or when
    no parser is at hand for that suffix)."""
    found = PARSERS.get(posixpath.splitext(path)[1].lower())
    if found is None:
        return None
    language, parser = found
    try:
        parser(text, path)
    except SyntaxError as error:
        where = f"line {error.lineno}" if error.lineno else "somewhere"
        return f"{path} is not valid {language} ({where}: {error.msg})"
    except (ValueError, RecursionError, MemoryError) as error:
        # json.JSONDecodeError and tomllib.TOMLDecodeError are ValueErrors; so is a NUL byte.
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f"{path} is not valid {language} ({first})"
    return None


def broken_files(before: dict[str, str | None], after: dict[str, str | None]) -> list[str]:
    """One line per edited file that parsed (or did not exist) before and no longer parses."""
    problems: list[str] = []
    for path, text in after.items():
        if text is None or text == before.get(path):
            continue
        old = before.get(path)
        if old is not None and parse_error(path, old) is not None:
            continue
        problem = parse_error(path, text)
        if problem is not None:
            problems.append(problem)
    return problems
