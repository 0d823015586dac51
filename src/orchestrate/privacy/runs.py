"""Runs of characters every match of a pattern holds, read from its parse tree.

Our patterns for digits and keys have no literal to look for (`[A-Za-z0-9/+]{40}`,
`\\d{8,10}:`), but every match holds a run of characters from one class: 40 base64 characters,
8 digits. `run(pattern)` finds the rarest such run (a class and a length) among the pattern's
consecutive top-level parts; `prefilter.skeleton` marks the text's characters in a class, so that
`bytes.find` (C speed) finds where the run can be.

The class is exact for the first 256 code points (tested on the compiled part itself); a
character past them is encoded as `?`, which counts as in the class if the class may hold any
such character (`\\d` holds other scripts' digits; under IGNORECASE `k` holds the Kelvin sign).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from re import _compiler as _regex_compiler  # type: ignore[attr-defined]  # no stubs
from re import _constants as _op  # type: ignore[attr-defined]  # stable since 3.11
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from orchestrate.privacy.literals import children
from orchestrate.privacy.prefilter import Run

_LATIN1 = 256
_MIN_BITS = 12.0
"""How unlikely (in bits, by `_FREQUENCY`) a run must be to be worth looking for."""
_FREQUENCY = {
    " ": 0.5,  # indentation: long runs of spaces are everywhere in code
    **dict.fromkeys("abcdefghijklmnopqrstuvwxyz", 0.025),
    **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 0.003),
    **dict.fromkeys("0123456789", 0.003),
    **dict.fromkeys("_.()", 0.02),
    **dict.fromkeys(",:='\"", 0.01),
}
"""Rough share of each character in code; any other character 0.002, one past ASCII 0.01."""
_LEAVES = (_op.LITERAL, _op.NOT_LITERAL, _op.IN, _op.ANY)
_NESTED = (_op.SUBPATTERN, _op.ATOMIC_GROUP, _op.BRANCH, _op.MAX_REPEAT, _op.MIN_REPEAT)


@lru_cache(maxsize=256)
def run(pattern: re.Pattern[str]) -> Run | None:
    """The rarest run of one class every match holds, if one is rare enough to look for and
    cannot hold a newline (so it lies on one line); None otherwise."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    parts = [_part(tree.state, op, av, pattern.flags) for op, av in tree.data]
    best: tuple[float, Run] | None = None
    for first in range(len(parts)):
        members: set[int] = set()
        length = 0
        for found in parts[first:]:
            if found is None:
                break
            members |= found[0]
            length += found[1]
            if ord("\n") in members:
                break
            if not length:
                continue
            bits = length * -math.log2(min(1.0, sum(map(_share, members))))
            if bits >= _MIN_BITS and (best is None or bits > best[0]):
                best = (bits, Run(_table(members), length))
    return None if best is None else best[1]


def _share(code: int) -> float:
    if code >= _LATIN1 or code == -1:
        return 0.01
    return _FREQUENCY.get(chr(code), 0.002)


def _table(members: set[int]) -> bytes:
    beyond = -1 in members
    return bytes(int(code in members or (beyond and code == ord("?"))) for code in range(_LATIN1))


def _part(state: Any, op: Any, av: Any, flags: int) -> tuple[set[int], int] | None:
    """The Latin-1 characters one top-level part can consume (-1 standing for any past
    Latin-1) and its shortest width; None if it may consume anything (a back-reference)."""
    item = _parser.SubPattern(state, [(op, av)])
    members = _consumed(state, [(op, av)], flags)
    return None if members is None else (members, item.getwidth()[0])


def _consumed(state: Any, items: Any, flags: int) -> set[int] | None:
    members: set[int] = set()
    for op, av in items:
        if op in _LEAVES:
            members |= leaf_members(state, op, av, flags)
        elif op in _NESTED:
            for sub in children(op, av):
                found = _consumed(state, sub, flags_within(op, av, flags))
                if found is None:
                    return None
                members |= found
        elif op not in (_op.AT, _op.ASSERT, _op.ASSERT_NOT):
            return None  # a back-reference or anything new: no class known
    return members


def leaf_members(state: Any, op: Any, av: Any, flags: int) -> set[int]:
    """The Latin-1 characters a leaf (a literal, a class, `.`) matches, -1 standing for any past
    Latin-1 it may match."""
    compiled = _regex_compiler.compile(_parser.SubPattern(state, [(op, av)]), flags)
    members = {code for code in range(_LATIN1) if compiled.fullmatch(chr(code))}
    if _beyond_latin1(op, av, flags):
        members.add(-1)
    return members


def _beyond_latin1(op: Any, av: Any, flags: int) -> bool:
    """Whether a leaf may match a character past Latin-1 (assumed, unless plainly not)."""
    if op is _op.LITERAL:
        spans = [(av, av)]
    elif op is _op.IN and all(kind in (_op.LITERAL, _op.RANGE) for kind, _ in av):
        spans = [value if kind is _op.RANGE else (value, value) for kind, value in av]
    else:
        return True
    if max(high for _, high in spans) >= _LATIN1:
        return True
    # Under IGNORECASE a letter also matches its other cases, some past Latin-1 (`K`, `ſ`).
    letters = any(chr(code).isalpha() for low, high in spans for code in range(low, high + 1))
    return bool(flags & re.IGNORECASE) and letters


def flags_within(op: Any, av: Any, flags: int) -> int:
    """The flags inside a group (`(?i:...)` adds one, `(?-i:...)` takes one away)."""
    if op is _op.SUBPATTERN:
        return int((flags | av[1]) & ~av[2])
    return flags
