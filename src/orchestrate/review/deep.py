"""Deep review: the architectural files together, with the whole PR in view, on a strong model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.github.patch import FilePatch
from orchestrate.review.calls import CALL_FAILURES, StepCall
from orchestrate.review.findings import Finding, Severity, SkippedItem
from orchestrate.review.limits import estimate_tokens
from orchestrate.review.untrusted import UNTRUSTED_NOTE, delimit, render_hunks, sanitize, untrusted


class PathRemark(BaseModel):
    """One comment on a numbered line of one of the files shown."""

    model_config = ConfigDict(extra="forbid")

    path: str
    """The file, exactly as shown."""
    line: int
    """A new-side line number shown in that file's diff."""
    severity: Severity
    """`error` must be fixed, `warning` should be, `info` is a suggestion."""
    body: str = Field(min_length=1)
    """What is wrong and what to do instead."""


class DeepRemarks(BaseModel):
    """The deep reviewer's structured answer."""

    model_config = ConfigDict(extra="forbid")

    findings: list[PathRemark] = Field(default_factory=list)
    """Comments; empty when there is nothing to flag."""


@dataclass
class DeepResult:
    """Findings, and the files the deep review could not take (they go to the routine review)."""

    findings: list[Finding] = field(default_factory=list)
    overflow: list[FilePatch] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)


@dataclass(frozen=True)
class PrText:
    """The PR's own words and shape, as context."""

    title: str
    body: str
    all_paths: Sequence[str]
    reasons: Mapping[str, str]
    rules: str = ""
    """The base commit's instructions files for the files reviewed (`review.instructions`)."""


def file_block(patch: FilePatch, reason: str) -> str:
    """One file's section of the deep reviewer's message."""
    why = f" (triage: {sanitize(reason)})" if reason else ""
    diff = render_hunks(patch.hunks).text
    return f"### {delimit('path', sanitize(patch.path))}{why}\n{delimit('diff', diff)}"


def deep_message(pr: PrText, blocks: Sequence[str]) -> str:
    """The deep reviewer's user message."""
    return "\n\n".join(
        [
            UNTRUSTED_NOTE,
            f"## PR title\n{untrusted('title', pr.title)}",
            f"## PR description\n{untrusted('description', pr.body or '(none)')}",
            f"## Every file this PR changes\n{untrusted('files', chr(10).join(pr.all_paths))}",
            *([pr.rules] if pr.rules else []),
            "## Architectural files to review",
            *blocks,
            "## How to answer\nList real problems in these files, each on a numbered line.",
        ]
    )


def capacity(call: StepCall, fixed: str) -> int:
    """Tokens of file sections one call can carry: the cloud allowance left, or, when only local
    models may answer, half the agent's context window."""
    if call.reaches_cloud():
        return call.cloud.left - call.cloud_tokens(fixed)
    return call.agent.num_ctx // 2 - estimate_tokens(call.agent.system_prompt + fixed)


async def review_deep(files: Sequence[FilePatch], pr: PrText, call: StepCall) -> DeepResult:
    """Review as many of `files` as fit one call; the rest are left for the routine review."""
    result = DeepResult()
    if not files:
        return result
    room = capacity(call, deep_message(pr, []))
    blocks: list[str] = []
    taken: list[FilePatch] = []
    for patch in files:
        block = file_block(patch, pr.reasons.get(patch.path, ""))
        cost = estimate_tokens(block)
        if cost > room:
            result.overflow.append(patch)
            continue
        room -= cost
        blocks.append(block)
        taken.append(patch)
    limit = "max-cloud-tokens" if call.reaches_cloud() else "the deep reviewer's context window"
    reason = f"deep review skipped: over {limit}; reviewed by the local routine reviewer instead"
    result.skipped = [SkippedItem(path=p.path, reason=reason) for p in result.overflow]
    if taken:
        await _ask(call, pr, blocks, taken, result)
    return result


async def _ask(
    call: StepCall, pr: PrText, blocks: list[str], taken: list[FilePatch], result: DeepResult
) -> None:
    try:
        answer, _ = await call.ask(deep_message(pr, blocks), DeepRemarks)
    except CALL_FAILURES as error:
        reason = f"deep review failed ({error}); reviewed by the local routine reviewer instead"
        result.skipped.extend(SkippedItem(path=p.path, reason=reason) for p in taken)
        result.overflow.extend(taken)
        return
    # Keyed as the model saw the paths, so a path that carried invisible characters still matches.
    # A path the model names that was not shown (another file of the PR, or one outside it) and
    # any line are kept as the model said: anchoring decides, and the review body takes the rest.
    shown = {sanitize(p.path): p.path for p in taken}
    for remark in answer.findings:
        body = sanitize(remark.body).strip()
        if not body:
            continue
        path = shown.get(remark.path) or sanitize(remark.path).strip() or "(no file named)"
        result.findings.append(
            Finding(path=path, line=remark.line, severity=remark.severity, body=body, source="deep")
        )
