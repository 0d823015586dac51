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
from orchestrate.engine.plan import Plan, plan_as_written
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.prompts import Files, render_planner
from orchestrate.engine.repomap import repo_map
from orchestrate.exceptions import (
    EditRefusedError,
    NoModelAvailableError,
    OutputValidationError,
    PlanError,
)
from orchestrate.models.base import Message, ModelRequest
from orchestrate.routing.router import Router

PLAN_UNAVAILABLE = (NoModelAvailableError, OutputValidationError, PlanError)
"""No model produced a valid plan: a task that names its files can still run as written.
A rejected request, a privacy block or a spent budget are not papered over this way."""
REPO_MAP_TOKENS = 4000
"""Size of the repo map shown to a cloud planner."""
FILE_CHARS = 60_000
"""Most characters shown of one file the task names; the rest is cut with a note."""


def read_task_files(root: Path, paths: Sequence[str]) -> Files:
    """Current text of each named file (None when it does not exist yet), cut to `FILE_CHARS`."""
    found: dict[str, str | None] = {}
    for path in paths:
        try:
            target = resolve_edit_path(root, path, None)
        except EditRefusedError as error:
            raise PlanError(f"task file {path!r} cannot be used: {error}") from None
        if not target.is_file():
            found[path] = None
            continue
        text = target.read_bytes().decode("utf-8", "replace")
        if len(text) > FILE_CHARS:
            text = f"{text[:FILE_CHARS]}\n[… {len(text) - FILE_CHARS} more characters cut …]"
        found[path] = text
    return found


async def make_plan(
    router: Router, agent: AgentConfig, task: TaskSpec, root: Path, *, private: bool = False
) -> Plan:
    """Ask the planner agent for a plan of `task` in the tree at `root`."""
    files = await asyncio.to_thread(read_task_files, root, task.files)
    # A local planner (private runs) has a small window: the map gets a quarter of it at most.
    tokens = min(REPO_MAP_TOKENS, agent.num_ctx // 4) if private else REPO_MAP_TOKENS
    overview = await asyncio.to_thread(repo_map, root, tokens, list(task.files))
    request = ModelRequest(
        system=agent.system_prompt,
        messages=(Message(role="user", content=render_planner(task, overview, files)),),
        settings=agent.settings(),
    )
    routed = await router.complete(agent, request, Plan, private=private, files=list(files))
    if routed.output is None:  # the router parses whenever an output type is given
        raise PlanError(f"planner {routed.model_ref} returned no plan; run again")
    return routed.output


async def plan_task(
    router: Router, agent: AgentConfig, task: TaskSpec, root: Path, *, private: bool = False
) -> tuple[Plan, str]:
    """A plan from the planner's chain, or, when no model of it could plan and the task names its
    files, the task as written (a plan of one subtask): the plan and what was said about it."""
    try:
        return await make_plan(router, agent, task, root, private=private), ""
    except PLAN_UNAVAILABLE as error:
        if not task.files:
            raise
        plan = plan_as_written(task.title, task.instructions, task.files, task.checks)
        return plan, f"planner failed ({error}); running the task as written"
