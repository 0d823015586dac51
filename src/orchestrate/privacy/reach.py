"""Where a match can lie relative to lines and to the literals it holds, read from the parse tree.

`line_reach(pattern)`: whether a match can never contain a newline and, if so, how many
characters past a match its lookaheads can read. With both, a search confined to one line (plus
that reach) finds exactly the matches a search of the whole text finds on that line.

`anchor(pattern)`: literals one of which every match holds, starting at most `offset` characters
after the match starts. Then a match can start only within `offset` before an occurrence of one,
and trying just those starts finds what a search of the whole text finds, even for a pattern
whose matches span lines.
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as _op  # type: ignore[attr-defined]  # no stubs; stable since 3.11
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from orchestrate.privacy.literals import (
    EMPTY_SET,
    MAX_EXACT,
    Literal,
    children,
    join,
    part,
    rarity,
)

Anchor = tuple[frozenset[Literal], int]
"""Literals, and how far after a match's start the one it holds may begin."""

_NEWLINE = ord("\n")
_NEWLINE_IN_CATEGORY = {
    _op.CATEGORY_DIGIT: False,
    _op.CATEGORY_NOT_DIGIT: True,
    _op.CATEGORY_SPACE: True,
    _op.CATEGORY_NOT_SPACE: False,
    _op.CATEGORY_WORD: False,
    _op.CATEGORY_NOT_WORD: True,
    _op.CATEGORY_LINEBREAK: True,
    _op.CATEGORY_NOT_LINEBREAK: False,
}
"""Whether each class escape (`\\d`, `\\S`, ...) matches a newline."""


@lru_cache(maxsize=256)
def line_reach(pattern: re.Pattern[str]) -> int | None:
    """Characters past a match its lookaheads may read, if no match can hold a newline and no
    match is empty; None otherwise (the pattern must then be searched over the whole text)."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    if tree.getwidth()[0] < 1 or _takes_newline(tree.data, bool(pattern.flags & re.DOTALL)):
        return None
    return _lookahead_reach(tree.data)


@lru_cache(maxsize=256)
def anchor(pattern: re.Pattern[str]) -> Anchor | None:
    """The rarest literals every match holds within a bounded offset of its start; None if no
    such literals derive, or a match may be empty."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    if tree.getwidth()[0] < 1:
        return None
    found = _anchors(tree.state, tree.data, bool(pattern.flags & re.IGNORECASE))
    best = min(found, key=_rank, default=None)
    return None if best is None else (_drop_longer(best[0]), best[1])


def _rank(one: Anchor) -> tuple[float, int]:
    return rarity(one[0]), one[1]


def _drop_longer(literals: frozenset[Literal]) -> frozenset[Literal]:
    """Without literals that start with another of the same kind (which starts where they do)."""
    return frozenset(
        (text, folded)
        for text, folded in literals
        if not any(o != text and text.startswith(o) and k == folded for o, k in literals)
    )


def _anchors(state: Any, items: Any, folded: bool) -> list[Anchor]:
    """Each run of exact parts and each part's own anchors, with the widest offset they start at."""
    found: list[Anchor] = []
    run, run_at, before = EMPTY_SET, 0, 0
    for op, av in items:
        info = part(op, av, folded)
        if info.exact is not None and len(run) * len(info.exact) <= MAX_EXACT:
            run = frozenset(join(a, b) for a in run for b in info.exact)
        else:
            found += _run(run, run_at)
            run, run_at = (EMPTY_SET, -1) if info.exact is None else (info.exact, before)
            if info.exact is None:
                found += [(ones, before + at) for ones, at in _inner(state, op, av, folded)]
        before += _parser.SubPattern(state, [(op, av)]).getwidth()[1]
        if before >= _op.MAXREPEAT:
            return found  # nothing further is a bounded offset from the start
        if run_at < 0:
            run_at = before
    return found + _run(run, run_at)


def _run(run: frozenset[Literal], at: int) -> list[Anchor]:
    return [] if any(not text for text, _ in run) else [(run, at)]


def _inner(state: Any, op: Any, av: Any, folded: bool) -> list[Anchor]:
    if op is _op.SUBPATTERN:
        return _anchors(
            state, av[3], (folded or bool(av[1] & re.IGNORECASE)) and not av[2] & re.IGNORECASE
        )
    if op is _op.ATOMIC_GROUP:
        return _anchors(state, av, folded)
    if op in (_op.MAX_REPEAT, _op.MIN_REPEAT, _op.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _anchors(state, av[2], folded)  # the first time round starts where the repeat does
    if op is _op.BRANCH:
        best = [min(_anchors(state, item, folded), key=_rank, default=None) for item in av[1]]
        chosen = [one for one in best if one is not None]
        if len(chosen) == len(best):
            return [(frozenset().union(*(ones for ones, _ in chosen)), max(at for _, at in chosen))]
    return []


def _takes_newline(items: Any, dotall: bool) -> bool:
    """Whether a match may consume a newline (lookarounds read, they do not consume)."""
    return any(_part_takes_newline(op, av, dotall) for op, av in items)


def _part_takes_newline(op: Any, av: Any, dotall: bool) -> bool:  # noqa: PLR0911 - per operator
    if op is _op.LITERAL:
        return bool(av == _NEWLINE)
    if op is _op.NOT_LITERAL:
        return bool(av != _NEWLINE)
    if op is _op.ANY:
        return dotall
    if op is _op.IN:
        return _class_takes_newline(av)
    if op is _op.SUBPATTERN:
        return _takes_newline(av[3], (dotall or bool(av[1] & re.DOTALL)) and not av[2] & re.DOTALL)
    if op is _op.BRANCH:
        return any(_takes_newline(item, dotall) for item in av[1])
    if op in (_op.MAX_REPEAT, _op.MIN_REPEAT, _op.POSSESSIVE_REPEAT):
        return _takes_newline(av[2], dotall)
    if op is _op.ATOMIC_GROUP:
        return _takes_newline(av, dotall)
    # Anchors, lookarounds and back-references consume nothing new; anything else may.
    return op not in (_op.AT, _op.ASSERT, _op.ASSERT_NOT, _op.GROUPREF)


def _class_takes_newline(items: Any) -> bool:
    negated = False
    hit = False
    for op, av in items:
        if op is _op.NEGATE:
            negated = True
        elif op is _op.LITERAL:
            hit = hit or av == _NEWLINE
        elif op is _op.RANGE:
            hit = hit or av[0] <= _NEWLINE <= av[1]
        elif op is _op.CATEGORY and av in _NEWLINE_IN_CATEGORY:
            hit = hit or _NEWLINE_IN_CATEGORY[av]
        else:
            return True  # anything else: assume it may take a newline (never guess)
    return hit != negated


def _lookahead_reach(items: Any) -> int | None:
    """Upper bound on how far lookaheads read past the position they stand at; None: unbounded."""
    reach = 0
    for op, av in items:
        if op in (_op.ASSERT, _op.ASSERT_NOT):
            # A lookahead reads its width; one nested in any lookaround may read further.
            width = av[1].getwidth()[1] if av[0] == 1 else 0
            inner = _lookahead_reach(av[1])
            if width >= _op.MAXREPEAT or inner is None:
                return None
            reach += width + inner
        elif op in (
            _op.SUBPATTERN,
            _op.BRANCH,
            _op.ATOMIC_GROUP,
            _op.MAX_REPEAT,
            _op.MIN_REPEAT,
            _op.POSSESSIVE_REPEAT,
        ):
            for sub in children(op, av):
                inner = _lookahead_reach(sub)
                if inner is None:
                    return None
                reach += inner
    return reach
