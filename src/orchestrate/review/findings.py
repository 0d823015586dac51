"""What a PR review produces: findings on lines, files it did not review, and what it cost."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "error"]

SEVERITY_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "error": 2}
"""Higher is more serious; merging keeps the most serious of duplicates."""

LINE_BUCKET = 50
"""Lines per fingerprint bucket: the same remark survives small edits above it between pushes,
while the same words far apart in one file stay two findings."""

_WORDS = re.compile(r"[a-z0-9_]+")


def normalise_body(body: str) -> str:
    """Lower-case words only: punctuation, spacing and Markdown do not make a remark new."""
    return " ".join(_WORDS.findall(body.lower()))


class Finding(BaseModel):
    """One review remark anchored to a line on the new side of the diff."""

    model_config = ConfigDict(frozen=True)

    path: str
    """File, as the model (or our own scan) named it: the PR's files, any other file, or a label
    such as `(pull request description)` for PR text. Anchoring decides where it is posted."""
    line: int
    """New-side line as the model named it; anchoring checks it against the diff. Below 1: the
    finding is about the file or text as a whole."""
    severity: Severity
    """`error` must be fixed, `warning` should be, `info` is a suggestion."""
    body: str
    """The remark, actionable on its own."""
    source: str
    """Which step found it: `routine`, `deep`, or `scan` (the sanitiser's own checks)."""

    def fingerprint(self) -> str:
        """Stable across pushes: the path, the normalised body and a coarse line bucket."""
        key = f"{self.path}\n{normalise_body(self.body)}\n{self.line // LINE_BUCKET}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class SkippedItem(BaseModel):
    """A file, or part of one, the review did not cover, and why: nothing is cut silently."""

    model_config = ConfigDict(frozen=True)

    path: str
    """File, as named in the PR."""
    reason: str
    """Why it was not (fully) reviewed, for the summary."""
    retry: bool = False
    """A later run should review it again (a limit cut it, or a step failed), so the incremental
    marker must not pass over it. False for what is never reviewed (lock files, binaries) and for
    notes about how a file was reviewed."""


class ReviewOutcome(BaseModel):
    """Everything the posting step needs."""

    summary: str
    """The formatter's overview of the change and the findings (Markdown)."""
    findings: list[Finding] = Field(default_factory=list)
    """Merged and deduplicated inline remarks."""
    skipped: list[SkippedItem] = Field(default_factory=list)
    """What was not reviewed, with reasons; the summary must show these."""
    cloud_usd: float = 0.0
    """Spent on cloud models by this review."""
    local_tokens: int = 0
    """Tokens served by local models in this review."""
    counterfactual_usd: float = 0.0
    """What the same tokens would have cost on the reference cloud model."""
    local_only: bool = False
    """True when no cloud model was allowed (e.g. a fork PR without secrets)."""
    notes: list[str] = Field(default_factory=list)
    """How the review was done where that differs from the configuration (a cloud model stood in
    for local ones, the triage was bypassed), for the summary."""

    def pending(self) -> list[str]:
        """Files a later run must review again."""
        return list(dict.fromkeys(item.path for item in self.skipped if item.retry))

    @property
    def savings_usd(self) -> float:
        """Counterfactual cost minus what was actually spent."""
        return max(0.0, self.counterfactual_usd - self.cloud_usd)
