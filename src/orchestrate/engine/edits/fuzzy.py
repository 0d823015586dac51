"""Finding a SEARCH block in a file, strictly first, then more loosely, and the closest miss.

Levels, each tried only when the previous found nothing: exact lines; the same lines at another
indentation (one consistent shift, which is then applied to the replacement); the same non-blank
lines with stray blank lines ignored. A level that finds several places reports them all, so the
caller can refuse an ambiguous block instead of guessing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from orchestrate.engine.edits.model import MatchKind

MIN_SIMILARITY = 0.4
"""Below this difflib ratio the closest lines are unrelated, so no "did you mean" is offered."""
MAX_WINDOWS = 2000
"""Most windows compared for the closest lines; larger files are sampled evenly."""


@dataclass(frozen=True)
class Shift:
    """Indentation to add to, or remove from, every replacement line."""

    add: str = ""
    remove: str = ""

    def apply(self, line: str) -> str:
        """`line` moved by this shift; blank lines stay blank."""
        if not self.add and not self.remove:
            return line
        if not line.strip():
            return ""
        if self.add:
            return self.add + line
        leading = len(line) - len(line.lstrip(" \t"))
        return line[min(leading, len(self.remove)) :]


@dataclass(frozen=True)
class Span:
    """Lines `start` to `end` (exclusive, 0-based) matched the SEARCH text."""

    start: int
    end: int
    shift: Shift


@dataclass(frozen=True)
class Found:
    """Every place the loosest needed level matched."""

    kind: MatchKind
    spans: list[Span]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _pair_shift(have: str, want: str) -> Shift | None:
    if have.strip() != want.strip():
        return None
    have_indent, want_indent = _indent(have), _indent(want)
    if have_indent.endswith(want_indent):
        return Shift(add=have_indent[: len(have_indent) - len(want_indent)])
    if want_indent.endswith(have_indent):
        return Shift(remove=want_indent[: len(want_indent) - len(have_indent)])
    return None


def _common_shift(window: list[str], search: list[str]) -> Shift | None:
    """The one shift turning `search` into `window`; blank lines must face blank lines."""
    shifts: set[Shift] = set()
    for have, want in zip(window, search, strict=True):
        if not have.strip() or not want.strip():
            if have.strip() or want.strip():
                return None
            continue
        shift = _pair_shift(have, want)
        if shift is None:
            return None
        shifts.add(shift)
    return shifts.pop() if len(shifts) == 1 else None


def _exact(lines: list[str], search: list[str]) -> list[Span]:
    size = len(search)
    return [
        Span(start, start + size, Shift())
        for start in range(len(lines) - size + 1)
        if lines[start : start + size] == search
    ]


def _indented(lines: list[str], search: list[str]) -> list[Span]:
    size = len(search)
    spans = []
    for start in range(len(lines) - size + 1):
        shift = _common_shift(lines[start : start + size], search)
        if shift is not None:
            spans.append(Span(start, start + size, shift))
    return spans


def _ignoring_blanks(lines: list[str], search: list[str]) -> list[Span]:
    kept = [line for line in search if line.strip()]
    rows = [number for number, line in enumerate(lines) if line.strip()]
    size = len(kept)
    spans = []
    for first in range(len(rows) - size + 1 if kept else 0):
        picked = rows[first : first + size]
        shift = _common_shift([lines[row] for row in picked], kept)
        if shift is not None:
            spans.append(Span(picked[0], picked[-1] + 1, shift))
    return spans


_LEVELS: tuple[tuple[MatchKind, Callable[[list[str], list[str]], list[Span]]], ...] = (
    ("exact", _exact),
    ("indent", _indented),
    ("blank_lines", _ignoring_blanks),
)


def find_matches(lines: list[str], search: list[str]) -> Found | None:
    """Where `search` sits in `lines`, at the strictest level that finds it; None if nowhere."""
    if not search:
        return None
    for kind, level in _LEVELS:
        spans = level(lines, search)
        if spans:
            return Found(kind, spans)
    return None


def number_lines(lines: list[str], first: int) -> str:
    """Lines prefixed by their 1-based numbers, starting at `first`."""
    return "\n".join(f"{first + offset:>5} | {line}" for offset, line in enumerate(lines))


def closest_lines(lines: list[str], search: list[str]) -> tuple[str, int | None]:
    """The numbered window of `lines` most like `search`, and its first line; ("", None) if none."""
    if not lines:
        return "", None
    size = max(1, len(search))
    windows = max(1, len(lines) - size + 1)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2("\n".join(search))  # seq2 is the cached side; the SEARCH text is fixed
    best, best_start = MIN_SIMILARITY, None
    for start in range(0, windows, max(1, windows // MAX_WINDOWS)):
        matcher.set_seq1("\n".join(lines[start : start + size]))
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_start = ratio, start
    if best_start is None:
        return "", None
    return number_lines(lines[best_start : best_start + size], best_start + 1), best_start + 1
