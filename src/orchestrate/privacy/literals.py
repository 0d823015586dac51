"""What every match of a regular expression must contain, read from its parse tree.

`needs(pattern)` is a conjunction of literal sets: every match contains one literal of each set
(None when nothing can be derived: then a caller must run the pattern as it is, never guess). A
literal under IGNORECASE is `folded`: it is looked for in the text folded (see `prefilter.fold`);
otherwise as written. Only what a match consumes counts: lookarounds and anchors contribute
nothing, repeats that may run zero times contribute nothing, and a branch needs a literal of
each alternative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from re import _constants as _op  # type: ignore[attr-defined]  # no stubs; stable since 3.11
from re import _parser  # type: ignore[attr-defined]
from typing import Any

Literal = tuple[str, bool]
"""A literal and whether it is folded (matched case-insensitively, so looked for folded)."""
Needs = tuple[frozenset[Literal], ...]
"""Sets of literals, rarest first; every match holds one literal of each set."""

MAX_EXACT = 16
"""Largest set of exact strings kept while concatenating; past it only its needs are kept."""
_MAX_CLASS = 10
"""Largest character class spelled out as single-character literals."""
_KEEP = 3
"""Sets kept per pattern: more cost more look-ups for little gain."""
_WEAK = 1 / 20
"""Rarity past which a literal set is on too many lines to be worth looking up."""
_MIN_PART = 3
"""Shortest part `_cover` looks for instead of a longer literal: shorter is on too many lines."""
_COMMON = frozenset(" \t\n.,:;=()[]{}<>-_'\"/\\*abcdefghijklmnopqrstuvwxyz0123456789")
"""Characters on most lines of code."""


@dataclass(frozen=True)
class Info:
    exact: frozenset[Literal] | None
    """Every string this part can match (None: too many or unknown)."""
    need: Needs = ()
    """What every match of this part contains (empty: nothing known)."""

    def required(self) -> Needs:
        if self.exact is None:
            return self.need
        return () if any(not text for text, _ in self.exact) else (self.exact,)


EMPTY_SET: frozenset[Literal] = frozenset({("", False)})
_UNKNOWN = Info(None)
_EMPTY = Info(EMPTY_SET)


@lru_cache(maxsize=256)
def needs(pattern: re.Pattern[str]) -> Needs | None:
    """Literal sets every match of `pattern` holds one of each of, or None if none derive."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    found = _sequence(tree.data, bool(pattern.flags & re.IGNORECASE)).required()
    if not found or rarity(found[0]) > _WEAK:
        return None  # the rarest set is on most lines anyway (`(`, `-`, capitals)
    # Past the rarest set, one of single characters (`=`, `.`) is on most lines: not worth a look.
    kept = [one for index, one in enumerate(found) if not index or _shortest(one) > 1]
    return tuple(_cover(_drop_implied(one)) for one in kept) or None


@lru_cache(maxsize=256)
def starts_with_literal(pattern: re.Pattern[str]) -> bool:
    """Whether every match starts with a character written out, case-sensitive (`sk-ant-...`,
    `(ghp|gho)_...`): `re` then skips to each occurrence of it at C speed itself (about 10 µs per
    20 KB), cheaper than looking up literals of our own first."""
    if pattern.flags & re.IGNORECASE:
        return False
    items = _parser.parse(pattern.pattern, pattern.flags).data
    while items and items[0][0] is _op.SUBPATTERN and not items[0][1][1] & re.IGNORECASE:
        items = items[0][1][3]
    return bool(items) and items[0][0] is _op.LITERAL


def rarity(literals: frozenset[Literal]) -> float:
    """A guess at how often one of `literals` occurs: each character makes it rarer, and one
    that starts with a character code seldom has (`@`, `#`, capitals) rarer still."""
    return sum(6.0 ** -(len(text) + (text[:1] not in _COMMON)) for text, _ in literals)


def _sequence(items: Any, folded: bool) -> Info:
    """Runs of exact parts are joined into longer literals; runs and parts each add needs."""
    run = EMPTY_SET
    found: list[frozenset[Literal]] = []
    whole = True
    for op, av in items:
        info = part(op, av, folded)
        if info.exact is not None and len(run) * len(info.exact) <= MAX_EXACT:
            run = frozenset(join(a, b) for a in run for b in info.exact)
            continue
        whole = False
        found += Info(run).required() + info.need
        run = EMPTY_SET if info.exact is None else info.exact
    if whole:
        return Info(run)
    return Info(None, _rarest(found + list(Info(run).required())))


def _rarest(sets: list[frozenset[Literal]]) -> Needs:
    return tuple(sorted(set(sets), key=rarity)[:_KEEP])


def part(op: Any, av: Any, folded: bool) -> Info:
    """What one parsed item of a pattern matches: its exact strings, or what it needs."""
    if op is _op.LITERAL:
        return _char(av, folded)
    if op is _op.IN:
        return _char_class(av, folded)
    if op is _op.SUBPATTERN:
        _group, add, remove, sub = av
        return _sequence(sub, (folded or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE)
    if op is _op.ATOMIC_GROUP:
        return _sequence(av, folded)
    if op is _op.BRANCH:
        return _branch([_sequence(item, folded) for item in av[1]])
    if op in (_op.MAX_REPEAT, _op.MIN_REPEAT, _op.POSSESSIVE_REPEAT):
        return _repeat(av[0], av[1], av[2], folded)
    if op in (_op.AT, _op.ASSERT, _op.ASSERT_NOT):
        return _EMPTY  # consumes nothing: what a lookaround reads may lie outside the match
    return _UNKNOWN


def _repeat(low: int, high: int, sub: Any, folded: bool) -> Info:
    inner = _sequence(sub, folded)
    if high == 1 and inner.exact is not None:  # `x?` is x or nothing
        return Info(inner.exact | (EMPTY_SET if low == 0 else frozenset()))
    return _UNKNOWN if low == 0 else Info(None, inner.required())


def _char(code: int, folded: bool) -> Info:
    char = chr(code)
    if not char.isascii():
        return _UNKNOWN
    return Info(frozenset({(char.lower() if folded else char, folded)}))


def _char_class(items: Any, folded: bool) -> Info:
    chars: set[str] = set()
    for op, av in items:
        if op is _op.LITERAL:
            chars.add(chr(av))
        elif op is _op.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.update(chr(code) for code in range(av[0], av[1] + 1))
        else:
            return _UNKNOWN  # negated, a category, or a wide range
    if len(chars) > _MAX_CLASS or not all(char.isascii() for char in chars):
        return _UNKNOWN
    return Info(frozenset((char.lower() if folded else char, folded) for char in chars))


def join(left: Literal, right: Literal) -> Literal:
    folded = left[1] or right[1]
    text = left[0] + right[0]
    return (text.lower() if folded else text, folded)


def _branch(infos: list[Info]) -> Info:
    """Exact while small; else a match of the branch holds the rarest need of one alternative."""
    exact: set[Literal] = set()
    for info in infos:
        if info.exact is None or len(exact) + len(info.exact) > MAX_EXACT:
            break
        exact |= info.exact
    else:
        return Info(frozenset(exact))
    need: set[Literal] = set()
    for info in infos:
        required = info.required()
        if not required:
            return _UNKNOWN
        need |= required[0]
    return Info(None, (frozenset(need),))


def _shortest(literals: frozenset[Literal]) -> int:
    return min(len(text) for text, _ in literals)


def _cover(literals: frozenset[Literal]) -> frozenset[Literal]:
    """Fewer, shorter literals, each a part of some of the given ones, covering all of them
    (`api_key`, `db_key`, `dbkey` -> `key`): every look-up costs a pass over the text."""
    left = set(literals)
    chosen: set[Literal] = set()
    while left:
        parts = {
            (text[at : at + size], folded)
            for text, folded in left
            for size in range(min(_MIN_PART, len(text)), len(text) + 1)
            for at in range(len(text) - size + 1)
        }
        best = max(sorted(parts), key=lambda one: (_covers(one, left), len(one[0])))
        chosen.add(best)
        left = {one for one in left if not _holds(one, best)}
    return frozenset(chosen) if len(chosen) < len(literals) else literals


def _covers(part: Literal, literals: set[Literal]) -> int:
    return sum(_holds(one, part) for one in literals)


def _holds(literal: Literal, part: Literal) -> bool:
    return literal[1] == part[1] and part[0] in literal[0]


def _drop_implied(need: frozenset[Literal]) -> frozenset[Literal]:
    """Without literals that contain another of the same kind: finding the shorter one suffices."""
    return frozenset(
        (text, folded)
        for text, folded in need
        if not any(other != text and other in text and kind == folded for other, kind in need)
    )


def children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns of a group, a branch or a repeat (its arguments as `re._parser` has them)."""
    if op is _op.SUBPATTERN:
        return [av[3]]
    if op is _op.BRANCH:
        return list(av[1])
    if op is _op.ATOMIC_GROUP:
        return [av]
    return [av[2]]
