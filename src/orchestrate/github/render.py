"""The Markdown posted to GitHub: inline comments, the review body and the sticky summary.

Model output may echo text from the pull request, so it is made inert before posting: no HTML
comments (which could forge our hidden marker) and no @-mentions (which would page people).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
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
    """One inline comment, tagged with its fingerprint; a moved one says from where."""
    finding = placed.finding
    note = ""
    if placed.moved_from is not None:
        away = abs(placed.line - placed.moved_from)
        note = (
            f"\n\n_(About line {placed.moved_from}, which the diff does not show; placed on the "
            f"nearest line it does, {away} line(s) away.)_"
        )
    tag = fingerprint_tag(finding.fingerprint())
    return f"{_BADGE[finding.severity]}: {inert(finding.body)}{note}\n\n{tag}"


def cap(text: str, limit: int = MAX_BODY) -> str:
    """`text` cut to `limit` characters, saying so, so GitHub never refuses it for size."""
    if len(text) <= limit:
        return text
    note = "\n\n_(shortened: the full text was over GitHub's size limit)_"
    return text[: limit - len(note)] + note


class ReviewText(BaseModel):
    """A review's own text, and the findings it shows (their fingerprints count as posted)."""

    body: str
    listed: list[Finding] = Field(default_factory=list)


def review_body(
    head_sha: str,
    inline: int,
    unplaced: Sequence[Finding],
    overflow: Sequence[Finding] = (),
    *,
    diff_paths: Collection[str] = (),
) -> ReviewText:
    """A count of inline comments, then every finding no inline comment carries: those with no
    line of the diff to sit on, and those past the cap on inline comments. Entries that would
    pass GitHub's size limit are left for a later run, which posts them."""
    lines = [f"**orchestrate review** of `{head_sha[:7]}`: {inline} inline comment(s)."]
    room = MAX_BODY - 400
    listed: list[Finding] = []
    left = 0
    sections = [
        ("Not on a line of this diff (as the reviewer named them):", unplaced, True),
        ("More findings (one review carries only the most serious inline):", overflow, False),
    ]
    for title, findings, off_diff in sections:
        entries = [_entry(f, off_diff=off_diff, diff_paths=diff_paths) for f in findings]
        if entries:
            lines.append(f"\n{title}")
        for finding, entry in zip(findings, entries, strict=True):
            if sum(len(line) + 1 for line in lines) + len(entry) > room:
                left += 1
                continue
            lines.append(entry)
            listed.append(finding)
    if left:
        lines.append(
            f"\n_…and {left} more finding(s) past GitHub's size limit; the next run posts them._"
        )
    return ReviewText(body="\n".join(lines), listed=listed)


def _entry(finding: Finding, *, off_diff: bool, diff_paths: Collection[str]) -> str:
    where = f"`{inert(finding.path)}`"
    if finding.path.startswith("(") and finding.path not in diff_paths:
        where = inert(finding.path)  # the PR's own text, e.g. "(pull request title)"
    elif finding.path not in diff_paths:
        where += " (not changed by this pull request)"
    if finding.line >= 1:
        where += f" line {finding.line}" + (" (outside the diff)" if off_diff else "")
    body = inert(finding.body).replace("\n", "\n  ")
    return f"- {where}: {_BADGE[finding.severity]}: {body} {fingerprint_tag(finding.fingerprint())}"


Scope = Literal["full", "incremental", "none"]


class SummaryFacts(BaseModel):
    """Everything the sticky summary reports about one run."""

    head_sha: str
    """Commit reviewed."""
    scope: Scope
    """What was reviewed this run."""
    since_sha: str | None = None
    """Last reviewed commit, for an incremental run."""
    retried: int = 0
    """Files reviewed again because an earlier run could not review them."""
    new_findings: int = 0
    """Findings posted this run."""
    repeated: int = 0
    """Findings already posted earlier and not repeated."""
    review_url: str | None = None
    """This run's review, if one was posted."""
    findings: list[Finding] = Field(default_factory=list)
    """This run's new findings, listed in the summary."""
    notices: list[str] = Field(default_factory=list)
    """Neutral notes for people: why cloud models were not used, what was not reviewed, ..."""


def summary_body(facts: SummaryFacts, outcome: ReviewOutcome | None, state_marker: str) -> str:
    """The sticky summary, led by the hidden marker."""
    parts = [state_marker, "## orchestrate review", _scope_line(facts)]
    notices = [*facts.notices, *(outcome.notes if outcome else [])]
    if notices:
        parts.append("> [!NOTE]\n" + "\n>\n".join(f"> {inert(n)}" for n in notices))
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


def job_report(summary: str, findings: Sequence[Finding], why: str) -> str:
    """The review as the job summary shows it when nothing could be posted: the summary without
    its marker, then every finding in full."""
    text = summary.split("\n\n", 1)[-1] if summary.startswith("<!--") else summary
    parts = [f"> [!WARNING]\n> {inert(why)}", text]
    if findings:
        rows = [
            f"- `{inert(f.path)}`" + (f" line {f.line}" if f.line >= 1 else "")
            + f": {_BADGE[f.severity]}: " + inert(f.body).replace("\n", "\n  ")
            for f in findings
        ]  # fmt: skip
        parts.append("### Findings\n" + "\n".join(rows))
    return "\n\n".join(parts)


def _finding_list(findings: Sequence[Finding]) -> str:
    rows = [
        f"- {_BADGE[f.severity]} `{inert(f.path)}{f':{f.line}' if f.line >= 1 else ''}`: "
        + inert(_first_line(f.body))
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
    again = f" Also reviewed again: {facts.retried} file(s) an earlier run could not review."
    again = again if facts.retried else ""
    if facts.scope == "incremental" and facts.since_sha == facts.head_sha:
        return f"Reviewed again, at {head}, what earlier runs could not review."
    if facts.scope == "incremental" and facts.since_sha:
        return f"Reviewed the commits after `{facts.since_sha[:7]}` up to {head}.{again}"
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
