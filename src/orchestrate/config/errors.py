"""One-line `path:line: field: message (hint)` errors, with paths shown relative to the cwd."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path

from orchestrate.exceptions import ConfigError

Loc = Sequence[int | str]
"""Where a value sits in a YAML document: mapping keys and list indexes, outermost first."""

TOP_LEVEL = "top level"
"""Field label for problems with the document as a whole."""


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies under it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        # Outside the cwd (ValueError) or the cwd itself is gone (OSError): absolute is still exact.
        return str(path.absolute())


def config_error(path: Path, line: int, field: str, message: str) -> ConfigError:
    """The one-line error every configuration problem is reported as."""
    return ConfigError(f"{display_path(path)}:{line}: {field}: {_one_line(message)}")


def field_label(loc: Loc) -> str:
    """`('fallbacks', 1)` → `fallbacks[1]`; `('endpoints', 'vllm', 'kind')` → `endpoints.vllm.kind`."""
    label = ""
    for part in loc:
        if isinstance(part, int):
            label += f"[{part}]"
        elif part == "[key]":  # pydantic's marker for an invalid mapping key
            continue
        elif not part or any(char.isspace() for char in part):
            # A key that is empty or holds a line break would split or hide the label: quote it.
            label += f"[{part!r}]"
        else:
            label += f".{part}" if label else part
    return label or TOP_LEVEL


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt `word`, if any is close enough."""
    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def shorten(value: object, limit: int = 40) -> str:
    """`repr(value)` cut to fit in a one-line message."""
    text = _one_line(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())
