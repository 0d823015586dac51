"""Recognising the pieces of a model reply: path lines, code fences, and lines of text."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Extension-less names models commonly write as a path line.
KNOWN_BARE_NAMES = frozenset(
    {"Makefile", "Dockerfile", "Containerfile", "Justfile", "Procfile", "Gemfile", "Rakefile"}
    | {"LICENSE", "README", "CHANGELOG", "Jenkinsfile", "Vagrantfile"}
)

_LEAD = re.compile(r"^(?:#{1,6}\s+|[-*+]\s+|\d{1,3}[.)]\s+)")
_LABEL = re.compile(r"^(?:file(?:name)?|path)\s*:[*`]*\s*", re.IGNORECASE)
_PATH_CHARS = re.compile(r"^[\w./\\+@~-]+$")
# A real extension holds a letter: `file.py` yes, `1.5` or `Done.` no.
_WITH_EXT = re.compile(r"^[\w.+@-]*\.[\w+-]*[A-Za-z][\w+-]*$")
_QUOTED = re.compile(r"`([^`\s]+)`|\*\*([^*\s]+)\*\*")
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def normalise_newlines(text: str) -> str:
    """Turn CRLF and lone CR into LF, the only newline the parsers know."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_lines(text: str) -> tuple[list[str], bool]:
    """Lines of `text` without their `\\n`, and whether it ended with one."""
    if not text:
        return [], False
    if text.endswith("\n"):
        return text[:-1].split("\n"), True
    return text.split("\n"), False


def join_lines(lines: list[str], trailing_newline: bool) -> str:
    """Inverse of `split_lines`."""
    if not lines:
        return ""
    return "\n".join(lines) + ("\n" if trailing_newline else "")


def one_trailing_newline(text: str) -> str:
    """`text` ending in exactly one newline, trailing blank lines dropped; blank text is empty."""
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def looks_like_path(text: str) -> bool:
    """Whether a bare token reads as a file path rather than a word of prose."""
    if not text or len(text) > 4096 or not _PATH_CHARS.match(text):
        return False
    last = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if _WITH_EXT.match(last) or last in KNOWN_BARE_NAMES:
        return True
    return "/" in text.strip("/") and bool(last)


def _strip_decoration(line: str) -> str:
    text = line.strip()
    while True:
        previous = text
        text = _LEAD.sub("", text)
        text = _LABEL.sub("", text)
        text = text.strip().strip("*`'\"").rstrip(":").strip()
        if text == previous:
            return text


def path_from_line(line: str) -> str | None:
    """The path a line names on its own (`a.py`, `a.py:`, `### a.py`, `**a.py**`, `File: a.py`)."""
    text = _strip_decoration(line)
    return text if looks_like_path(text) else None


def path_from_intro(line: str) -> str | None:
    """The path a line names, also in an intro like "Here is `a.py`:" (one quoted path).

    Only intros ending in ":" count, so prose mentioning a file elsewhere names no block.
    """
    direct = path_from_line(line)
    if direct is not None:
        return direct
    if not line.rstrip().endswith(":"):
        return None
    tokens = [code or bold for code, bold in _QUOTED.findall(line)]
    found = [token for token in tokens if looks_like_path(token)]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class FenceOpen:
    """An opening code fence: its marker, indentation and any path in its info string."""

    marker: str
    indent: int
    path: str | None


def fence_open(line: str) -> FenceOpen | None:
    """The fence a line opens, if it is one (```` ```python ````, ```` ```src/a.py ````, `~~~`)."""
    found = _FENCE_OPEN.match(line)
    if found is None:
        return None
    info = found["info"].strip()
    if found["fence"].startswith("`") and "`" in info:
        return None  # inline code such as ```x``` is not a fence
    tokens = [token for token in re.split(r"[\s:]+", info) if looks_like_path(token)]
    return FenceOpen(found["fence"], len(found["indent"]), tokens[0] if tokens else None)


def is_fence_close(line: str, opened: FenceOpen) -> bool:
    """Whether `line` closes the fence `opened` (same character, at least as long, nothing else)."""
    text = line.strip()
    char = opened.marker[0]
    return len(text) >= len(opened.marker) and text == char * len(text)


def is_fence_line(line: str) -> bool:
    """Any line that opens or closes a fence."""
    return fence_open(line) is not None
