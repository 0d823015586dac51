"""A detector that is a pattern plus a check on each match, for secrets and personal data alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Validator = Callable[[re.Match[str]], bool]


@dataclass(frozen=True)
class PiiRule:
    """One kind of private text: its rule name, pattern, and a check on each match."""

    rule: str
    pattern: re.Pattern[str]
    valid: Validator | None = None
    group: int | str = 0
    """The part of a match that is private (a keyword before it is not)."""

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Start and end of each valid match."""
        for match in self.pattern.finditer(text):
            if self.valid is None or self.valid(match):
                yield match.span(self.group)
