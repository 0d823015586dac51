"""How many digits every match of a pattern holds, read from its parse tree.

Our phone, card and national-number patterns start with a digit or a bracket and hold no
literal: `re` tries them at every digit of a text, and code is full of digits. But every match
of the card pattern holds at least 13 digits on one line, a phone number at least 5:
`least_digits` reads that count from the parse tree, and `prefilter.Text` searches only the
lines holding as many (most lines of code hold a few, or none).
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as _op  # type: ignore[attr-defined]  # no stubs; stable since 3.11
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from orchestrate.privacy.runs import flags_within, leaf_members

DIGIT_MARKS = b"0123456789?"
"""What the text's digit skeleton counts: ASCII digits, and `?`, which stands for every
character past Latin-1 there (`\\d` also matches other scripts' digits)."""
_COUNTED = frozenset(DIGIT_MARKS) | {-1}
_LEAVES = (_op.LITERAL, _op.NOT_LITERAL, _op.IN, _op.ANY)
_REPEATS = (_op.MAX_REPEAT, _op.MIN_REPEAT, _op.POSSESSIVE_REPEAT)


@lru_cache(maxsize=256)
def least_digits(pattern: re.Pattern[str]) -> int:
    """The fewest characters counted as digits (see `DIGIT_MARKS`) any match consumes."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    return _least(tree.state, tree.data, pattern.flags)


def _least(state: Any, items: Any, flags: int) -> int:
    return sum(_item(state, op, av, flags) for op, av in items)


def _item(state: Any, op: Any, av: Any, flags: int) -> int:
    if op in _LEAVES:
        members = leaf_members(state, op, av, flags)
        return int(bool(members) and members <= _COUNTED)
    if op is _op.SUBPATTERN:
        return _least(state, av[3], flags_within(op, av, flags))
    if op is _op.ATOMIC_GROUP:
        return _least(state, av, flags)
    if op is _op.BRANCH:
        return min(_least(state, item, flags) for item in av[1])
    if op in _REPEATS:
        return int(av[0]) * _least(state, av[2], flags)
    return 0  # anchors and lookarounds consume nothing; anything else counts as no digit
