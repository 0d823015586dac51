"""The planner: the task, a repo map and the files the task names → a validated `Plan`.

The plan comes back as structured output; the router validates it against `Plan` (whose
validators hold every semantic rule), repairs once, then moves to the next model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from orchestrate.config.schema import AgentConfig
from orchestrate.engine.edits.paths import resolve_edit_path
from orchestrate.engine.excerpts import excerpt
from orchestrate.engine.plan import Plan, plan_as_written
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.prompts import Files, render_planner, render_planner_context
from orchestrate.engine.repomap import map_omissions, repo_map
from orchestrate.exceptions import (
    EditRefusedError,
    NoModelAvailableError,
    OutputValidationError,
    PlanError,
)
from orchestrate.models.base import Message, ModelRequest
from orchestrate.repo_rules.rules import NO_RULES, RepoRules
from orchestrate.routing.router import Router

PLAN_UNAVAILABLE = (NoModelAvailableError, OutputValidationError, PlanError)
"""No model produced a valid plan: a task that names its files can still run as written.
A rejected request, a privacy block or a spent budget are not papered over this way."""
REPO_MAP_TOKENS = 4000
"""Size of the repo map shown to a cloud planner."""
FILE_CHARS = 60_000
"""Most characters shown of one file the task names; a larger one is shown as the regions
around the symbols the task names, the rest outlined (`excerpts`)."""


def read_task_files(root: Path, paths: Sequence[str], wanted: str) -> tuple[Files, list[str]]:
    """Current text of each named file (None when it does not exist yet); a file over
    `FILE_CHARS` is shown as the regions around the symbols `wanted` names, the rest outlined,
    and a note says so."""
    found: dict[str, str | None] = {}
    notes: list[str] = []
    for path in paths:
        try:
            target = resolve_edit_path(root, path, None)
        except EditRefusedError as error:
            raise PlanError(f"task file {path!r} cannot be used: {error}") from None
        if not target.is_file():
            found[path] = None
            continue
        shown = excerpt(path, target.read_bytes().decode("utf-8", "replace"), wanted, FILE_CHARS)
        found[path] = shown.text
        if shown.note:
            notes.append(shown.note)
    return found, notes


async def make_plan(
    router: Router,
    agent: AgentConfig,
    task: TaskSpec,
    root: Path,
    *,
    private: bool = False,
    rules: RepoRules = NO_RULES,
) -> tuple[Plan, list[str]]:
    """Ask the planner agent for a plan of `task` in the tree at `root`; with the plan, what
    the planner was not shown (files in part, map symbols left out, instructions files past
    their budget), one line each."""
    wanted = f"{task.title}\n{task.instructions}"
    files, notes = await asyncio.to_thread(read_task_files, root, task.files, wanted)
    # A local planner (private runs) has a small window: the map gets a quarter of it at most.
    tokens = min(REPO_MAP_TOKENS, agent.num_ctx // 4) if private else REPO_MAP_TOKENS
    # Not focused on this task's files: the same map for every task of a run is what lets a
    # provider serve it from its cache (the named files are shown whole below it anyway).
    overview = await asyncio.to_thread(repo_map, root, tokens)
    notes += [f"repo map: {note}" for note in map_omissions(overview)]
    section = rules.for_planner(task.files)
    notes += [f"instructions: {note}" for note in section.omitted]
    # The context every task of the run shares comes first, marked as the end of a stable
    # prefix (Anthropic caches the prompt up to a cache_control block:
    # https://platform.claude.com/docs/en/build-with-claude/prompt-caching); then the task
    # (with the instructions files that apply to its files).
    # Two user turns in a row are one turn to Anthropic ("Consecutive user or assistant turns
    # in your request will be combined into a single turn": anthropic 2.14's
    # types/message_create_params.py, https://platform.claude.com/docs/en/api/messages).
    request = ModelRequest(
        system=agent.system_prompt,
        messages=(
            Message(role="user", content=render_planner_context(overview), cache=True),
            Message(role="user", content=render_planner(task, files, section.text)),
        ),
        settings=agent.settings(),
    )
    routed = await router.complete(agent, request, Plan, private=private, files=list(files))
    if routed.output is None:  # the router parses whenever an output type is given
        raise PlanError(f"planner {routed.model_ref} returned no plan; run again")
    return routed.output, notes


AS_WRITTEN = (
    "runs as written, no planner asked: it names its files and checks "
    "(`orchestrate run --always-plan` has it planned)"
)


def runs_as_written(task: TaskSpec) -> bool:
    """Whether a task needs no planner: it names the files to change and the checks that say
    it is done, so a plan would restate it (and a cloud planner would be paid to do so)."""
    return bool(task.files and task.checks)


async def plan_task(
    router: Router,
    agent: AgentConfig,
    task: TaskSpec,
    root: Path,
    *,
    private: bool = False,
    rules: RepoRules = NO_RULES,
    always: bool = True,
) -> tuple[Plan, str, list[str]]:
    """A plan from the planner's chain, or the task as written (a plan of one subtask): without
    `always`, for a task that names its files and checks; and when no model of the chain could
    plan a task that names its files. Returns the plan, what was said about it, and what the
    planner was not shown."""
    if not always and runs_as_written(task):
        why = "it names its files and checks; no planner was asked"
        plan = plan_as_written(task.title, task.instructions, task.files, task.checks, why)
        return plan, AS_WRITTEN, []
    try:
        plan, notes = await make_plan(router, agent, task, root, private=private, rules=rules)
        return plan, "", notes
    except PLAN_UNAVAILABLE as error:
        if not task.files:
            raise
        plan = plan_as_written(task.title, task.instructions, task.files, task.checks)
        return plan, f"planner failed ({error}); running the task as written", []
