"""The PR-review pipeline: triage → routine and deep review → merge and summary, within budgets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.github.patch import FilePatch
from orchestrate.review.calls import StepCall
from orchestrate.review.deep import DeepResult, PrText, review_deep
from orchestrate.review.findings import Finding, ReviewOutcome, SkippedItem
from orchestrate.review.injection import InjectionScan, scan
from orchestrate.review.instructions import NO_REVIEW_RULES, ReviewRules, cut_note
from orchestrate.review.limits import CloudTokens, ReviewLimits, Selection, select_files
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
from orchestrate.review.verdicts import neutral_remark
from orchestrate.routing.router import Router

__all__ = ["load_pipeline", "review_patches"]

HIDDEN_TEXT = (
    "Invisible Unicode characters (zero-width, bidirectional control or tag characters) on "
    "{lines}. They can hide text from reviewers or make code read differently from how it runs; "
    "remove them."
)
PR_TEXT_NOTE = (
    "Text addressed to an automated reviewer was found in the {where}, so the triage (which "
    "reads it) was skipped and every file went to the deep review."
)
CLOUD_ROUTINE_NOTE = (
    "No local model answered, so the routine review of {count} file(s) used the cloud model "
    "{model}. Give the review a local model (ollama-url) to keep routine files on the runner."
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
    commits: Sequence[tuple[str, str]] = (),
    rules: ReviewRules = NO_REVIEW_RULES,
) -> ReviewOutcome:
    """Review a PR's files. Never approves: the outcome holds findings, a summary and what was
    skipped. With `local_only`, every call is private, so only local models are used. `rules`:
    the base commit's instructions files, given to the reviewers of the files they apply to."""
    require_agents(pipeline, config.agents)
    recorder = router.recorder
    start = (recorder.cloud_usd, recorder.local_tokens, recorder.counterfactual_usd)
    cloud = CloudTokens(limits.max_cloud_tokens)

    def call(kind: StepKind) -> StepCall | None:
        name = pipeline.agent_for(kind)
        if name is None:
            return None
        return StepCall(router, config.agents[name], private=local_only, cloud=cloud)

    flags = scan(files, title=title, body=body, commits=commits)
    selection = select_files(files, limits, first=flags.files)
    pr = PrText(title, body, [f.path for f in files], {})
    found = await _review(selection, flags, pr, call, rules)
    findings = merge_findings([*found.findings, *hidden_text(files), *flags.findings])
    findings = [f.model_copy(update={"body": neutral_remark(f.body)}) for f in findings]
    skipped = [*selection.skipped, *found.skipped]
    summary = await write_summary(title, findings, skipped, call("format"))
    return ReviewOutcome(
        summary="\n\n".join(part for part in (summary, render_skipped(skipped)) if part),
        findings=findings,
        skipped=skipped,
        cloud_usd=recorder.cloud_usd - start[0],
        local_tokens=recorder.local_tokens - start[1],
        counterfactual_usd=recorder.counterfactual_usd - start[2],
        local_only=local_only,
        notes=found.notes,
    )


@dataclass
class _Found:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def _review(
    selection: Selection,
    flags: InjectionScan,
    pr: PrText,
    call: Callable[[StepKind], StepCall | None],
    rules: ReviewRules,
) -> _Found:
    """Triage, then the deep and routine reviews side by side, then the deep review's overflow."""
    found = _Found()
    triage_call = call("triage")
    if flags.pr_text and triage_call is not None:
        # The triage read that text: its answer cannot be trusted to route anything.
        found.notes.append(PR_TEXT_NOTE.format(where=", ".join(flags.pr_text)))
        triage_call = None
    sorted_files = await triage(
        selection.files, title=pr.title, body=pr.body, call=triage_call, deep=flags.files
    )
    deep_rules = rules.section([patch.path for patch in sorted_files.architectural])
    pr = PrText(pr.title, pr.body, pr.all_paths, sorted_files.reasons, deep_rules.text)
    routine_call = call("routine")
    assert routine_call is not None  # the pipeline schema requires a routine step
    deep, routine = await asyncio.gather(
        _deep(sorted_files.architectural, pr, call("deep")),
        review_routine(sorted_files.routine, title=pr.title, call=routine_call, rules=rules),
    )
    routine.add(await review_routine(deep.overflow, title=pr.title, call=routine_call, rules=rules))
    found.findings = [*deep.findings, *routine.findings]
    found.skipped = [*deep.skipped, *routine.skipped]
    if sorted_files.note is not None:
        found.skipped.insert(0, SkippedItem(path="(all files)", reason=sorted_files.note))
    found.notes.extend(
        CLOUD_ROUTINE_NOTE.format(model=ref, count=len(paths))
        for ref, paths in sorted(routine.cloud_files.items())
    )
    found.notes.extend(cut_note([*deep_rules.omitted, *routine.rules_cut]))
    return found


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
