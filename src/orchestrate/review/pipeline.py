"""The PR-review pipeline: triage → routine and deep review → merge and summary, within budgets."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.github.patch import FilePatch
from orchestrate.review.calls import StepCall
from orchestrate.review.deep import DeepResult, PrText, review_deep
from orchestrate.review.findings import Finding, ReviewOutcome, SkippedItem
from orchestrate.review.limits import CloudTokens, ReviewLimits, select_files
from orchestrate.review.merge import merge_findings, render_skipped, write_summary
from orchestrate.review.pipeline_config import (
    PipelineConfig,
    StepKind,
    load_pipeline,
    require_agents,
)
from orchestrate.review.routine import review_routine
from orchestrate.review.triage import triage
from orchestrate.review.untrusted import render_hunks
from orchestrate.routing.router import Router

__all__ = ["load_pipeline", "review_patches"]

HIDDEN_TEXT = (
    "Invisible Unicode characters (zero-width, bidirectional control or tag characters) on "
    "{lines}. They can hide text from reviewers or make code read differently from how it runs; "
    "remove them."
)


async def review_patches(
    files: list[FilePatch],
    *,
    title: str,
    body: str,
    config: OrchestrateConfig,
    router: Router,
    pipeline: PipelineConfig,
    limits: ReviewLimits,
    local_only: bool = False,
) -> ReviewOutcome:
    """Review a PR's files. Never approves: the outcome holds findings, a summary and what was
    skipped. With `local_only`, every call is private, so only local models are used."""
    require_agents(pipeline, config.agents)
    recorder = router.recorder
    start = (recorder.cloud_usd, recorder.local_tokens, recorder.counterfactual_usd)
    cloud = CloudTokens(limits.max_cloud_tokens)

    def call(kind: StepKind) -> StepCall | None:
        name = pipeline.agent_for(kind)
        if name is None:
            return None
        return StepCall(router, config.agents[name], private=local_only, cloud=cloud)

    selection = select_files(files, limits)
    sorted_files = await triage(selection.files, title=title, body=body, call=call("triage"))
    pr = PrText(title, body, [f.path for f in files], sorted_files.reasons)
    routine_call = call("routine")
    assert routine_call is not None  # the pipeline schema requires a routine step
    deep_call = call("deep")
    deep, first = await asyncio.gather(
        _deep(sorted_files.architectural, pr, deep_call),
        review_routine(sorted_files.routine, title=title, call=routine_call),
    )
    second = await review_routine(deep.overflow, title=title, call=routine_call)
    findings = merge_findings([*deep.findings, *first[0], *second[0], *hidden_text(files)])
    skipped = [*selection.skipped, *deep.skipped, *first[1], *second[1]]
    if sorted_files.note is not None:
        skipped.insert(0, SkippedItem(path="(all files)", reason=sorted_files.note))
    summary = await write_summary(title, findings, skipped, call("format"))
    return ReviewOutcome(
        summary="\n\n".join(part for part in (summary, render_skipped(skipped)) if part),
        findings=findings,
        skipped=skipped,
        cloud_usd=recorder.cloud_usd - start[0],
        local_tokens=recorder.local_tokens - start[1],
        counterfactual_usd=recorder.counterfactual_usd - start[2],
        local_only=local_only,
    )


async def _deep(files: Sequence[FilePatch], pr: PrText, call: StepCall | None) -> DeepResult:
    if call is None:  # no deep step: architectural files get the routine review, unremarked
        return DeepResult(overflow=list(files))
    return await review_deep(files, pr, call)


def hidden_text(files: Sequence[FilePatch]) -> list[Finding]:
    """One warning per file whose added lines carry invisible characters, reviewed or not."""
    found = []
    for patch in files:
        lines = render_hunks(patch.hunks).hidden_lines
        if lines:
            where = ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines))
            body = HIDDEN_TEXT.format(lines=where)
            found.append(
                Finding(
                    path=patch.path, line=lines[0], severity="warning", body=body, source="scan"
                )
            )
    return found
