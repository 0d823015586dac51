"""How `prefilter.Text` may search one pattern, read from its parse tree, or None: search it
over the whole text.

The parse tree comes from `re`'s private modules (`re._parser`, `re._constants`,
`re._compiler`), which `literals`, `reach` and `runs` read as Python 3.11 to 3.13 have them. They
are not a public API: on a Python where they are missing, renamed or read differently, every
pattern is searched over the whole text (the plain scan: slower, the same findings), never
gated on a misread tree. Three checks make sure of it: the imports themselves, known answers
for a few patterns (a tree whose operators changed meaning derives something else), and a
guard on each pattern's derivation. Each failure is logged once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrate.privacy.literals import Needs
    from orchestrate.privacy.prefilter import Run
    from orchestrate.privacy.reach import Anchor

logger = logging.getLogger("orchestrate.privacy")

_TREE_ERRORS = (AttributeError, TypeError, ValueError, IndexError, KeyError, re.error)
"""What reading a parse tree of another shape than ours raises."""


@dataclass(frozen=True)
class Plan:
    """Where a pattern's matches can be, as far as its parse tree says."""

    reach: int | None
    """Characters past a match its lookaheads read, if no match holds a newline; else None."""
    needs: Needs | None = None
    """Literal sets every match holds one of each of (for a pattern within lines)."""
    run: Run | None = None
    """A run of one class of characters every match holds (for a pattern within lines)."""
    anchor: Anchor | None = None
    """Literals near the start of every match (for a pattern whose matches span lines)."""
    digits: int = 0
    """Digits every match holds (for a pattern within lines)."""


Deriver = Callable[[re.Pattern[str]], "Plan | None"]


def _tree_reader() -> Deriver | None:
    """The derivation from parse trees, if this Python's private `re` modules are as we read
    them; None otherwise."""
    try:
        from orchestrate.privacy.digits import least_digits
        from orchestrate.privacy.literals import needs, starts_with_literal
        from orchestrate.privacy.reach import anchor, line_reach
        from orchestrate.privacy.runs import run
    except (ImportError, AttributeError) as error:
        logger.warning("privacy scan searches whole texts: re's private modules: %s", error)
        return None

    def derive(pattern: re.Pattern[str]) -> Plan | None:
        if starts_with_literal(pattern):
            return None  # `re` skips to that literal itself, faster than our look-ups
        reach = line_reach(pattern)
        if reach is None:
            return Plan(None, anchor=anchor(pattern))
        return Plan(reach, needs(pattern), run(pattern), digits=least_digits(pattern))

    return derive if _known_answers(derive) else None


_KNOWN = (
    (r"(?<!\w)passw(?:or)?d=\d{8,}(?=xy)", (2, (frozenset({("passw", False)}),), 9, 8)),
    (r"(?i)Token:[A-Z]{4}", (0, (frozenset({("token:", True)}),), 6, 0)),
    (r"[(\d](?:\d{3}\)|\d-\d{2}(?:-?\d){3,})(?!x)", (1, None, 5, 3)),
    (r"\b(?:pw|pass)\s+(?P<v>\S+)", (None, (frozenset({("pw", False), ("pass", False)}), 0))),
    (r"sk-[a-z]+", None),
)
"""Patterns and what they derive where the private modules are as we read them: lookarounds,
literals joined and folded, repeats, a run of a class, digits counted through a branch, a
branch anchoring a multi-line match."""


def _known_answers(derive: Deriver) -> bool:
    """Whether `derive` reads a few patterns as it does on the Pythons it was written for."""
    try:
        got = [_summary(derive(re.compile(source))) for source, _ in _KNOWN]
    except _TREE_ERRORS as error:
        logger.warning("privacy scan searches whole texts: re's parse trees: %s", error)
        return False
    if got != [expected for _, expected in _KNOWN]:
        logger.warning("privacy scan searches whole texts: re's parse trees read differently")
        return False
    return True


def _summary(plan: Plan | None) -> object:
    if plan is None:
        return None
    if plan.reach is None:
        return (None, plan.anchor)
    return (plan.reach, plan.needs, None if plan.run is None else plan.run.length, plan.digits)


@lru_cache(maxsize=1)
def _reader() -> Deriver | None:
    # On first use, not on import: the known answers cost a few milliseconds.
    return _tree_reader()


@lru_cache(maxsize=256)
def plan(pattern: re.Pattern[str]) -> Plan | None:
    """How to search `pattern` without reading all of a text; None: search the whole text."""
    derive = _reader()
    if derive is None:
        return None
    try:
        return derive(pattern)
    except _TREE_ERRORS as error:
        # A tree shape this code does not know: the whole text is searched, as it always may be.
        logger.warning("privacy scan searches whole texts for %r: %s", pattern.pattern, error)
        return None


def gating() -> bool:
    """Whether patterns are derived at all on this Python (else every search reads whole texts)."""
    return _reader() is not None
