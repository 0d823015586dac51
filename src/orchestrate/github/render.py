"""The Markdown posted to GitHub: inline comments, the review body and the sticky summary.

Model output may echo text from the pull request, so it is made inert before posting: no HTML
comments (which could forge our hidden marker) and no @-mentions (which would page people).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from orchestrate.github.anchoring import Placed
from orchestrate.github.posting import fingerprint_tag
from orchestrate.review.findings import Finding, ReviewOutcome

MAX_BODY = 60_000
"""Characters kept of a review or comment body; GitHub refuses bodies over 65,536."""
LISTED_FINDINGS = 30
"""Findings listed in the summary; the review holds them all."""
_MENTION = re.compile(r"(?<![\w`])@(?=[A-Za-z0-9])")
_BADGE = {"error": "🔴 **error**", "warning": "🟠 **warning**", "info": "🔵 **info**"}


def inert(text: str) -> str:
    """`text` unable to hide markup or notify anyone."""
    text = text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
    return _MENTION.sub("@\u200b", text)


def comment_body(placed: Placed) -> str:
    """One inline comment, tagged with its fingerprint."""
    finding = placed.finding
    note = ""
    if placed.moved_from is not None:
        note = f"\n\n_(about line {placed.moved_from}, outside the diff)_"
    tag = fingerprint_tag(finding.fingerprint())
    return f"{_BADGE[finding.severity]}: {inert(finding.body)}{note}\n\n{tag}"


def cap(text: str, limit: int = MAX_BODY) -> str:
    """`text` cut to `limit` characters, saying so, so GitHub never refuses it for size."""
    if len(text) <= limit:
        return text
    note = "\n\n_(shortened: the full text was over GitHub's size limit)_"
    return text[: limit - len(note)] + note


def review_body(head_sha: str, inline: int, unplaced: Sequence[Finding]) -> str:
    """The review's own text: a count, and the findings no diff line could carry."""
    lines = [f"**orchestrate review** of `{head_sha[:7]}`: {inline} inline comment(s)."]
    if unplaced:
        lines.append("\nFindings on lines outside the diff:")
        lines.extend(
            f"- `{inert(f.path)}` line {f.line}: {_BADGE[f.severity]}: {inert(f.body)} "
            f"{fingerprint_tag(f.fingerprint())}"
            for f in unplaced
        )
    return cap("\n".join(lines))


Scope = Literal["full", "incremental", "none"]


class SummaryFacts(BaseModel):
    """Everything the sticky summary reports about one run."""

    head_sha: str
    """Commit reviewed."""
    scope: Scope
    """What was reviewed this run."""
    since_sha: str | None = None
    """Last reviewed commit, for an incremental run."""
    new_findings: int = 0
    """Findings posted this run."""
    repeated: int = 0
    """Findings already posted earlier and not repeated."""
    review_url: str | None = None
    """This run's review, if one was posted."""
    findings: list[Finding] = Field(default_factory=list)
    """This run's new findings, listed in the summary."""
    notice: str | None = None
    """A neutral note for people, e.g. why cloud models were not used or nothing was reviewed."""


def summary_body(facts: SummaryFacts, outcome: ReviewOutcome | None, state_marker: str) -> str:
    """The sticky summary, led by the hidden marker."""
    parts = [state_marker, "## orchestrate review", _scope_line(facts)]
    if facts.notice:
        parts.append(f"> [!NOTE]\n> {facts.notice}")
    if outcome is not None:
        posted = f"**{facts.new_findings}** new finding(s)"
        if facts.review_url:
            posted += f" in [this review]({facts.review_url})"
        if facts.repeated:
            posted += f"; {facts.repeated} already posted earlier, not repeated"
        parts.extend(
            [
                posted + ".",
                _finding_list(facts.findings),
                inert(outcome.summary),
                _cost_table(outcome),
            ]
        )
    return cap("\n\n".join(part for part in parts if part))


def _finding_list(findings: Sequence[Finding]) -> str:
    rows = [
        f"- {_BADGE[f.severity]} `{inert(f.path)}:{f.line}`: {inert(_first_line(f.body))}"
        for f in findings[:LISTED_FINDINGS]
    ]
    if len(findings) > LISTED_FINDINGS:
        rows.append(f"- ... and {len(findings) - LISTED_FINDINGS} more in the review")
    return "\n".join(rows)


def _first_line(text: str, width: int = 120) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= width else line[: width - 1] + "…"


def _scope_line(facts: SummaryFacts) -> str:
    head = f"`{facts.head_sha[:7]}`"
    if facts.scope == "incremental" and facts.since_sha:
        return f"Reviewed the commits after `{facts.since_sha[:7]}` up to {head}."
    if facts.scope == "none":
        return f"No new commits since the last review of {head}."
    return f"Reviewed the whole pull request at {head}."


def _cost_table(outcome: ReviewOutcome) -> str:
    mode = "local models only" if outcome.local_only else "cloud and local models"
    return (
        "| cloud cost | local tokens | saved vs. all-cloud | models |\n"
        "|---:|---:|---:|---|\n"
        f"| ${outcome.cloud_usd:.4f} | {outcome.local_tokens:,} | "
        f"${outcome.savings_usd:.4f} | {mode} |"
    )
