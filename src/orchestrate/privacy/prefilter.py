"""Pattern searches that skip the places no match can be, finding exactly what a search of the
whole text finds, in the same order.

Python's `re` skips ahead quickly only for a pattern that starts with a literal or a character
class; detect-secrets' assignment patterns start with a lookbehind alternation, so each costs
milliseconds per 20 KB. `literals.needs` derives the literals every match must contain and
`runs.run` a run of characters of one class it must hold (40 base64 characters, 8 digits); a
`Text` finds them with `str.find` and `bytes.find` (C speed) and searches only where they are:

- a pattern whose matches never hold a newline (`reach.line_reach`) is searched on each line that
  holds a literal of each needed set and its run, reading past the line no further than the
  pattern can;
- one whose matches may span lines is tried only at the starts its anchor allows
  (`reach.anchor`: within a bounded offset before an anchor literal), leftmost first, as
  `finditer` does;
- a pattern that starts with a literal is searched over the whole text: `re` skips ahead to
  that literal itself, faster than our look-ups;
- so is anything else (no literal derives, most lines qualify, a literal is everywhere), as
  before. Never a guess: where `re`'s private parse-tree modules are missing or not as
  `derivation` knows them, every pattern is searched over the whole text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrate.privacy.derivation import Plan, plan

_DIGIT_MARKS = bytes.maketrans(b"0123456789?", b"\x01" * 11)
_NOT_COUNTED = bytes(code for code in range(256) if code not in b"0123456789?\n")
"""What the digit skeleton drops: all but digits, `?` (any character past Latin-1) and newlines
(see `digits.DIGIT_MARKS`)."""

if TYPE_CHECKING:
    from orchestrate.privacy.literals import Literal

# Under IGNORECASE, `re` also matches these to ASCII letters (`ſ` to `s`, the Kelvin sign to `k`,
# dotted and dotless i to `i`); folding keeps the text's length, so offsets stay valid.
_FOLD = str.maketrans(
    {
        **{chr(code): chr(code + 32) for code in range(ord("A"), ord("Z") + 1)},
        "\u0130": "i",
        "\u0131": "i",
        "\u017f": "s",
        "\u212a": "k",
    }
)
_MOST = 0.25
"""Share of a text past which searching it whole beats searching line by line."""
_FEW = 4
"""Lines few enough to search without narrowing them further (a look-up costs a text pass)."""
_MIN_DIGITS = 4
"""Digits a match must hold for the lines with as many to be worth looking up."""
_MANY = 200
"""Occurrences of an anchor literal past which searching the whole text is the better way."""


@dataclass(frozen=True)
class Run:
    """Every match holds `length` consecutive characters whose bytes in `skeleton` are 1."""

    table: bytes
    """For each Latin-1 byte (a character past Latin-1 is `?`): 1 if in the class, else 0."""
    length: int


def fold(text: str) -> str:
    """`text` with each character IGNORECASE matches to an ASCII letter as that lower-case
    letter, and the same length (`str.lower` turns `İ` into two characters)."""
    return text.lower() if text.isascii() else text.translate(_FOLD)


class Text:
    """One text to search with many patterns; literal look-ups are shared between them."""

    def __init__(self, text: str, *, gated: bool = True) -> None:
        """`gated=False` searches every pattern over the whole text: the plain path, which the
        tests hold the gated one to."""
        self.text = text
        self.gated = gated
        self._folded: str | None = None
        self._lines: dict[Literal, dict[int, int] | None] = {}
        self._positions: dict[Literal, list[int] | None] = {}
        self._skeletons: dict[bytes, bytes] = {}
        self._runs: dict[tuple[bytes, int], dict[int, int] | None] = {}
        self._digits: bytes | None = None
        self._encoded: bytes | None = None
        self._with_digits: dict[int, dict[int, int] | None] = {}
        self._starts: list[int] | None = None

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """The matches `pattern.finditer(text)` yields, in the same order."""
        found = plan(pattern) if self.gated else None
        if found is None:
            return pattern.finditer(self.text)
        if found.reach is None:
            return self._anchored(pattern, found)
        lines = self._candidates(found)
        if lines is None:
            return pattern.finditer(self.text)
        return self._on_lines(pattern, lines, found.reach)

    def _on_lines(
        self, pattern: re.Pattern[str], lines: dict[int, int], reach: int
    ) -> Iterator[re.Match[str]]:
        size = len(self.text)
        for start in sorted(lines):
            end = lines[start]
            # Lookaheads read up to `reach` characters past the newline; two more keep `$` and
            # `\b` from taking the window's end for the text's.
            for match in pattern.finditer(self.text, start, min(size, end + reach + 2)):
                if match.start() > end:
                    break
                yield match

    def _candidates(self, derived: Plan) -> dict[int, int] | None:
        """The lines holding a literal of each set the pattern needs and the run of characters
        it needs; None when most lines qualify (or nothing derives) and searching the whole
        text is the better way. The lines holding as many digits as a match first (one cheap
        pass that most often leaves no line), then the rarest set, then the run, then the
        other sets while more than a few lines are left."""
        lines = self.lines_with_digits(derived.digits) if derived.digits >= _MIN_DIGITS else None
        if lines is not None and len(lines) <= _FEW:
            return lines
        needed = derived.run
        for index, literals in enumerate(derived.needs or ()):
            lines = _narrowed(lines, self._holding(literals))
            if index == 0 and needed is not None and (lines is None or len(lines) > _FEW):
                lines = _narrowed(lines, self.lines_with_run(needed))
                needed = None
            if lines is not None and len(lines) <= _FEW:
                return lines
        return lines if needed is None else _narrowed(lines, self.lines_with_run(needed))

    def _holding(self, literals: frozenset[Literal]) -> dict[int, int] | None:
        """The lines holding one of `literals`; None if most lines do."""
        holding: dict[int, int] | None = {}
        for literal in literals:
            found = self.lines_with(literal)
            holding = None if found is None or holding is None else holding | found
        return holding

    def _anchored(self, pattern: re.Pattern[str], found: Plan) -> Iterator[re.Match[str]]:
        """For a pattern whose matches may span lines: try a match only where one can start,
        within its anchor's offset before an anchor literal; leftmost first, each after the
        previous match's end, as `finditer` does."""
        starts = self._anchor_starts(found)
        if starts is None:
            yield from pattern.finditer(self.text)
            return
        after = 0
        for start in starts:
            match = pattern.match(self.text, start) if start >= after else None
            if match:
                yield match
                after = match.end()

    def _anchor_starts(self, found: Plan) -> list[int] | None:
        if found.anchor is None:
            return None
        literals, offset = found.anchor
        starts: set[int] = set()
        for literal in literals:
            at = self.positions(literal)
            if at is None:
                return None
            starts.update(start for each in at for start in range(max(0, each - offset), each + 1))
        return sorted(starts)

    def positions(self, literal: Literal) -> list[int] | None:
        """Where `literal` starts (as written, or in the folded text); None past `_MANY`."""
        if literal not in self._positions:
            haystack = self.folded() if literal[1] else self.text
            found: list[int] = []
            at = haystack.find(literal[0])
            while at >= 0 and len(found) <= _MANY:
                found.append(at)
                at = haystack.find(literal[0], at + 1)
            self._positions[literal] = found if len(found) <= _MANY else None
        return self._positions[literal]

    def lines_with(self, literal: Literal) -> dict[int, int] | None:
        """Start and end (the newline's offset, or the text's length) of each line holding
        `literal`, as written or, if folded, in the folded text; None if those lines make up
        more than `_MOST` of the text."""
        if literal not in self._lines:
            self._lines[literal] = self._find(*literal)
        return self._lines[literal]

    def lines_with_run(self, needed: Run) -> dict[int, int] | None:
        """The lines holding `needed.length` characters of its class in a row; None if those
        lines make up more than `_MOST` of the text."""
        key = (needed.table, needed.length)
        if key not in self._runs:
            if needed.table not in self._skeletons:
                self._skeletons[needed.table] = self._latin1().translate(needed.table)
            marks = self._skeletons[needed.table]
            self._runs[key] = self._find_lines(marks.find, b"\x01" * needed.length)
        return self._runs[key]

    def lines_with_digits(self, least: int) -> dict[int, int] | None:
        """The lines holding `least` digits (or characters past Latin-1, as `digits` counts
        them); None if those lines make up more than `_MOST` of the text."""
        if least not in self._with_digits:
            self._with_digits[least] = self._count_lines(least)
        return self._with_digits[least]

    def _count_lines(self, least: int) -> dict[int, int] | None:
        if self._digits is None:
            encoded = self._latin1()
            # Only digits and newlines are left: `least` marks in a row lie on one line.
            self._digits = encoded.translate(_DIGIT_MARKS, _NOT_COUNTED)
        marks, needle = self._digits, b"\x01" * least
        found: dict[int, int] = {}
        at = marks.find(needle)
        if at < 0:
            return found
        starts = self._line_starts()
        budget = _MOST * len(self.text)
        line = counted = 0
        while at >= 0:
            line += marks.count(b"\n", counted, at)
            counted = at
            found[starts[line]] = starts[line + 1] - 1
            budget -= starts[line + 1] - 1 - starts[line]
            if budget < 0:
                return None
            after = marks.find(b"\n", at)
            at = -1 if after < 0 else marks.find(needle, after + 1)
        return found

    def _latin1(self) -> bytes:
        """The text one byte a character (`?` past Latin-1), made once for every skeleton."""
        if self._encoded is None:
            self._encoded = self.text.encode("latin-1", "replace")
        return self._encoded

    def _line_starts(self) -> list[int]:
        """Where each line starts, and one past the text's end (a last line's newline)."""
        if self._starts is None:
            lengths = (len(line) + 1 for line in self.text.split("\n"))
            self._starts = list(itertools.accumulate(lengths, initial=0))
        return self._starts

    def folded(self) -> str:
        """The text folded (see `fold`), made once."""
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded

    def _find(self, literal: str, folded: bool) -> dict[int, int] | None:
        return self._find_lines((self.folded() if folded else self.text).find, literal)

    def _find_lines(self, find: Callable[[Any, int], int], needle: Any) -> dict[int, int] | None:
        """Each line on which `find` (a `str.find` or `bytes.find` over a copy of the text with
        the same offsets) finds `needle`; None past `_MOST` of the text."""
        text = self.text
        found: dict[int, int] = {}
        budget = _MOST * len(text)
        at = find(needle, 0)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            if end < 0:
                end = len(text)
            found[start] = end
            budget -= end - start
            if budget < 0:
                return None
            at = find(needle, end + 1)
        return found


def skeleton(text: str, table: bytes) -> bytes:
    """`text` one byte a character: 1 where the character is in the class, else 0."""
    return text.encode("latin-1", "replace").translate(table)


def _narrowed(
    lines: dict[int, int] | None, holding: dict[int, int] | None
) -> dict[int, int] | None:
    """`lines` kept to those in `holding`; either None means no narrowing from it."""
    if holding is None or lines is None:
        return lines if holding is None else holding
    return {start: end for start, end in lines.items() if start in holding}
