"""The reviewer: reads the run's real diff from git and returns a structured `Review`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from orchestrate.config.schema import AgentConfig
from orchestrate.engine.checks import CheckResult
from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.prompts import render_reviewer
from orchestrate.engine.result import SubtaskResult
from orchestrate.engine.review import Review
from orchestrate.events import ContentOmitted
from orchestrate.exceptions import OutputValidationError
from orchestrate.models.base import Message, ModelRequest
from orchestrate.repo_rules.rules import NO_RULES, RepoRules
from orchestrate.routing.fit import CHARS_PER_TOKEN
from orchestrate.routing.routed import Routed
from orchestrate.routing.router import Router

DIFF_CHARS = 150_000
"""Most characters of diff shown to a cloud reviewer; a longer diff is cut with a note."""

T = TypeVar("T", bound=BaseModel)


def diff_limit(agent: AgentConfig, private: bool) -> int:
    """Most characters of diff `agent` is shown: a local reviewer (private runs) must get the
    diff within half its context window."""
    return min(DIFF_CHARS, agent.num_ctx // 2 * CHARS_PER_TOKEN) if private else DIFF_CHARS


async def ask_reviewer(
    router: Router,
    agent: AgentConfig,
    task: TaskSpec,
    plan: Plan,
    answer: type[T],
    *,
    diff: str,
    results: Sequence[SubtaskResult],
    checks: Sequence[CheckResult],
    private: bool = False,
    omitted: list[str] | None = None,
    rules: RepoRules = NO_RULES,
    how_to_answer: str = "",
) -> Routed[T]:
    """Ask `agent` about `diff` (the combined diff, read from git) for an `answer`, with the
    instructions files applying to the changed files. What was cut to fit is said: an event,
    and a line added to `omitted`."""
    limit = diff_limit(agent, private)
    # The diff's paths count for the private-path rule, just as their contents count for the scan.
    changed = sorted({path for sub in plan.subtasks for path in (*sub.edit_files, *sub.read_files)})
    # The instructions files of every file changed (follow-ups included), as the diff says.
    section = rules.for_files([*changed, *re.findall(r"^\+\+\+ b/(.+)$", diff, re.MULTILINE)])
    notes = [f"instructions: {note}" for note in section.omitted]
    if len(diff) > limit:
        notes.append(f"the combined diff: its first {limit:,} of {len(diff):,} characters shown")
    for note in notes:
        run_id = router.recorder.run_id
        router.events.emit(ContentOmitted(run_id=run_id, agent=agent.name, what=note))
        if omitted is not None:
            omitted.append(f"{agent.name}: {note}")
    content = render_reviewer(
        task,
        plan,
        diff=diff,
        results=results,
        task_checks=checks,
        diff_limit=limit,
        rules=section.text,
        how_to_answer=how_to_answer,
    )
    request = ModelRequest(
        system=agent.system_prompt,
        messages=(Message(role="user", content=content),),
        settings=agent.settings(),
    )
    routed = await router.complete(agent, request, answer, private=private, files=changed)
    if routed.output is None:  # the router parses whenever an output type is given
        raise OutputValidationError(
            f"{agent.name} {routed.model_ref} returned no answer; run again"
        )
    return routed


async def review_run(
    router: Router,
    agent: AgentConfig,
    task: TaskSpec,
    plan: Plan,
    *,
    diff: str,
    results: Sequence[SubtaskResult],
    checks: Sequence[CheckResult],
    private: bool = False,
    omitted: list[str] | None = None,
    rules: RepoRules = NO_RULES,
) -> Review:
    """Ask the reviewer agent for a verdict on `diff` (see `ask_reviewer`)."""
    routed = await ask_reviewer(
        router,
        agent,
        task,
        plan,
        Review,
        diff=diff,
        results=results,
        checks=checks,
        private=private,
        omitted=omitted,
        rules=rules,
    )
    assert routed.output is not None  # ask_reviewer raises otherwise
    return routed.output
