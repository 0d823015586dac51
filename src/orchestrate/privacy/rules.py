"""A detector that is a pattern plus a check on each match, for secrets and personal data alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from orchestrate.privacy.prefilter import Text

Validator = Callable[[re.Match[str]], bool]


@dataclass(frozen=True)
class PiiRule:
    """One kind of private text: its rule name, pattern, and a check on each match."""

    rule: str
    pattern: re.Pattern[str]
    valid: Validator | None = None
    group: int | str = 0
    """The part of a match that is private (a keyword before it is not)."""

    def spans(self, text: str, view: Text | None = None) -> Iterator[tuple[int, int]]:
        """Start and end of each valid match. `view`: `text` as a `prefilter.Text`, to share
        its literal look-ups with other rules."""
        for match in (view or Text(text)).finditer(self.pattern):
            if self.valid is None or self.valid(match):
                yield match.span(self.group)
