"""The format step: findings merged and de-duplicated in code, then a local model's summary."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.review.calls import CALL_FAILURES, StepCall
from orchestrate.review.findings import SEVERITY_RANK, Finding, SkippedItem, normalise_body
from orchestrate.review.untrusted import UNTRUSTED_NOTE, delimit, sanitize
from orchestrate.review.verdicts import neutral_summary

NEAR_LINES = 3
"""Remarks this close on the same file may be the same remark from two reviewers."""
SAME_WORDING = 0.75
"""Similarity of normalised bodies above which two near remarks are one."""
_SOURCE_RANK = {"deep": 2, "scan": 1}
"""Among duplicates the deep reviewer's wording wins: it saw more context."""


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per remark: duplicates collapse onto the most serious, best-informed one."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=_preference, reverse=True):
        if not any(_same(finding, other) for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.path, f.line, -SEVERITY_RANK[f.severity]))


def _preference(finding: Finding) -> tuple[int, int, int]:
    return (
        SEVERITY_RANK[finding.severity],
        _SOURCE_RANK.get(finding.source, 0),
        len(finding.body),
    )


def _same(a: Finding, b: Finding) -> bool:
    if a.fingerprint() == b.fingerprint():
        return True
    if a.path != b.path or abs(a.line - b.line) > NEAR_LINES:
        return False
    ratio = difflib.SequenceMatcher(None, normalise_body(a.body), normalise_body(b.body)).ratio()
    return ratio >= SAME_WORDING


class SummaryAnswer(BaseModel):
    """The formatter's structured answer."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1)
    """Two to five sentences of Markdown on the review as a whole."""


def summary_message(title: str, findings: Sequence[Finding], skipped: Sequence[SkippedItem]) -> str:
    """The formatter's user message: the findings as JSON data."""
    listed = json.dumps([f.model_dump(exclude={"source"}) for f in findings], indent=1)
    return "\n\n".join(
        [
            UNTRUSTED_NOTE,
            f"## PR title\n{delimit('title', sanitize(title))}",
            f"## Findings ({len(findings)})\n{delimit('findings', listed)}",
            f"## Files not (fully) reviewed: {len(skipped)}",
            "## How to answer\nWrite the review's summary.",
        ]
    )


def fallback_summary(findings: Sequence[Finding]) -> str:
    """A plain summary for when the formatter cannot answer."""
    if not findings:
        return "The automated review found nothing to flag. A person still decides on this PR."
    counts = {level: sum(f.severity == level for f in findings) for level in SEVERITY_RANK}
    parts = [f"{n} {level}" for level, n in reversed(counts.items()) if n]
    return f"The automated review left {len(findings)} comments ({', '.join(parts)})."


async def write_summary(
    title: str,
    findings: Sequence[Finding],
    skipped: Sequence[SkippedItem],
    call: StepCall | None,
) -> str:
    """The formatter's summary, or the plain one if it cannot answer; sanitised either way, and
    never stating a verdict."""
    plain = fallback_summary(findings)
    if call is None or not findings:
        return plain
    try:
        answer, _ = await call.ask(summary_message(title, findings, skipped), SummaryAnswer)
    except CALL_FAILURES:
        return plain
    return neutral_summary(sanitize(answer.summary).strip(), plain) or plain


def render_skipped(skipped: Sequence[SkippedItem]) -> str:
    """The "not reviewed" section every summary ends with, so no cut goes unsaid."""
    if not skipped:
        return ""
    rows = [f"- `{sanitize(item.path)}`: {item.reason}" for item in skipped]
    return "**Not reviewed, or only in part:**\n" + "\n".join(rows)
