"""Routine review: a local model reviews one file, or a few hunks of a large one, at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.github.patch import FilePatch, Hunk
from orchestrate.repo_rules.prompt import RULES_TOKENS
from orchestrate.review.calls import CALL_FAILURES, StepCall
from orchestrate.review.findings import Finding, Severity, SkippedItem
from orchestrate.review.instructions import NO_REVIEW_RULES, ReviewRules
from orchestrate.review.limits import hunk_tokens
from orchestrate.review.untrusted import UNTRUSTED_NOTE, delimit, render_hunks, sanitize

MIN_CHUNK_TOKENS = 500
"""Smallest chunk worth a call, whatever the agent's context window."""


class LineRemark(BaseModel):
    """One comment on a numbered line of the diff shown."""

    model_config = ConfigDict(extra="forbid")

    line: int
    """A new-side line number shown in the diff."""
    severity: Severity
    """`error` must be fixed, `warning` should be, `info` is a suggestion."""
    body: str = Field(min_length=1)
    """What is wrong and what to do instead."""


class FileRemarks(BaseModel):
    """The routine reviewer's structured answer for one chunk of one file."""

    model_config = ConfigDict(extra="forbid")

    findings: list[LineRemark] = Field(default_factory=list)
    """Comments; empty when the chunk needs none."""


def chunk_hunks(hunks: Sequence[Hunk], max_tokens: int) -> list[list[Hunk]]:
    """Consecutive hunks grouped so each group fits `max_tokens` (a larger hunk goes alone)."""
    chunks: list[list[Hunk]] = []
    size = 0
    for hunk in hunks:
        tokens = hunk_tokens(hunk)
        if not chunks or size + tokens > max_tokens:
            chunks.append([])
            size = 0
        chunks[-1].append(hunk)
        size += tokens
    return chunks


@dataclass
class RoutineResult:
    """What the routine review found, what it could not review, and which cloud models stood in
    for local ones (a cloud-only setup, or local models that did not answer)."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    cloud_files: dict[str, set[str]] = field(default_factory=dict)
    """Cloud model → files it reviewed here."""
    rules_cut: set[str] = field(default_factory=set)
    """What the instructions budget left out of the files' prompts, one line each."""

    def add(self, other: RoutineResult) -> None:
        """Fold another result into this one."""
        self.findings.extend(other.findings)
        self.skipped.extend(other.skipped)
        self.rules_cut.update(other.rules_cut)
        for ref, paths in other.cloud_files.items():
            self.cloud_files.setdefault(ref, set()).update(paths)


def routine_message(path: str, title: str, diff: str, part: str, rules: str = "") -> str:
    """The routine reviewer's user message for one chunk (`rules`: the instructions section)."""
    return "\n\n".join(
        [
            UNTRUSTED_NOTE,
            f"## PR title\n{delimit('title', sanitize(title))}",
            *([rules] if rules else []),
            f"## File: {delimit('path', sanitize(path))}{part}",
            f"## Diff\n{delimit('diff', diff)}",
            "## How to answer\nList real problems in this diff, each on a numbered line.",
        ]
    )


async def review_routine(
    files: Sequence[FilePatch],
    *,
    title: str,
    call: StepCall,
    rules: ReviewRules = NO_REVIEW_RULES,
) -> RoutineResult:
    """Review every file, chunk by chunk, concurrently (the router bounds each endpoint), each
    with the instructions files that apply to it in a quarter of the agent's context."""
    chunk_tokens = max(MIN_CHUNK_TOKENS, call.agent.num_ctx // 2)
    rules_tokens = min(RULES_TOKENS, call.agent.num_ctx // 4)
    jobs = []
    result = RoutineResult()
    for patch in files:
        section = rules.section([patch.path], rules_tokens)
        result.rules_cut.update(section.omitted)
        chunks = chunk_hunks(patch.hunks, chunk_tokens)
        for index, chunk in enumerate(chunks):
            part = f" (part {index + 1} of {len(chunks)})" if len(chunks) > 1 else ""
            jobs.append(
                _review_chunk(
                    patch.path, chunk, title=title, part=part, call=call, rules=section.text
                )
            )
    for chunk_result in await asyncio.gather(*jobs):
        result.add(chunk_result)
    return result


async def _review_chunk(
    path: str, hunks: list[Hunk], *, title: str, part: str, call: StepCall, rules: str
) -> RoutineResult:
    diff = render_hunks(hunks).text
    try:
        answer, ref = await call.ask(routine_message(path, title, diff, part, rules), FileRemarks)
    except CALL_FAILURES as error:
        reason = f"routine review{part} failed: {error}"
        return RoutineResult(skipped=[SkippedItem(path=path, reason=reason, retry=True)])
    result = RoutineResult()
    if call.is_cloud(ref):
        result.cloud_files[ref] = {path}
    # The model's own line goes on: anchoring places it, moves it a little, or lists it in the
    # review body. Nothing is snapped here, and nothing is dropped.
    for remark in answer.findings:
        body = sanitize(remark.body).strip()
        if body:
            result.findings.append(
                Finding(
                    path=path,
                    line=remark.line,
                    severity=remark.severity,
                    body=body,
                    source="routine",
                )
            )
    return result
