"""Finds secrets and personal data in text. Findings say which rule fired and where, never what."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from orchestrate.config.schema import DEFAULT_ENTROPY_LIMIT
from orchestrate.privacy.pii import PII_RULES
from orchestrate.privacy.prefilter import Text

"""Bits a character above which a quoted base64-alphabet string counts as a secret."""


class Finding(BaseModel):
    """One piece of private data: the rule that fired and its position. Never the text itself."""

    model_config = ConfigDict(frozen=True)

    rule: str
    """What was found: `github_token`, `email`, `card_number`, `private_path`, ..."""
    location: str
    """Where: `system`, `message 2` (0-based index into the request's messages), or a file path."""
    line: int | None = None
    """1-based line within that text; None for a whole file."""
    span: tuple[int, int] | None = None
    """Character offsets of the private text within that location's text; None for a whole file."""

    def where(self) -> str:
        """`message 2, line 14` or `.env`: for ledger rows and messages."""
        return self.location if self.line is None else f"{self.location}, line {self.line}"


class Scanner:
    """Runs the secret and personal-data detectors over one text at a time."""

    def __init__(self, *, entropy_limit: float = DEFAULT_ENTROPY_LIMIT, pii: bool = True) -> None:
        """`entropy_limit`: see `detectors`; `pii`: whether personal data counts, not only secrets."""
        self.entropy_limit = entropy_limit
        self.pii = pii

    def scan(self, text: str, location: str) -> tuple[Finding, ...]:
        """Every finding in `text`, in order of position, overlapping spans merged."""
        return tuple(
            Finding(rule=rule, location=location, line=line, span=(start, end))
            for rule, line, start, end in _scan(text, self.entropy_limit, self.pii)
        )


# Requests repeat the same system prompt and repo context call after call: scan each text once.
@lru_cache(maxsize=128)
def _scan(text: str, entropy_limit: float, pii: bool) -> tuple[tuple[str, int, int, int], ...]:
    return scan_text(Text(text), entropy_limit, pii)


def scan_text(view: Text, entropy_limit: float, pii: bool) -> tuple[tuple[str, int, int, int], ...]:
    """`(rule, line, start, end)` of each finding in `view.text`, overlaps merged."""
    # detect-secrets (and `requests` under it) costs a third of a second to import: pay it on the
    # first scan, not on every start of the command line.
    from orchestrate.privacy.detectors import find_secrets

    text = view.text
    hits = [(hit.start, hit.end, hit.rule) for hit in find_secrets(text, entropy_limit, view)]
    if pii:
        hits += [(start, end, r.rule) for r in PII_RULES for start, end in r.spans(text, view)]
    merged: list[tuple[int, int, str]] = []
    # Secrets come before personal data and specific detectors before generic ones: on overlap,
    # the first one listed names the merged span, so sort on position only (sort is stable).
    for start, end, rule in sorted(hits, key=lambda hit: hit[0]):
        if merged and start < merged[-1][1]:
            first_start, first_end, first_rule = merged[-1]
            merged[-1] = (first_start, max(first_end, end), first_rule)
        else:
            merged.append((start, end, rule))
    return tuple((rule, text.count("\n", 0, start) + 1, start, end) for start, end, rule in merged)
