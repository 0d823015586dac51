"""The quick review: a cheap model may approve a small, check-verified change (a FrugalGPT-style
cascade); anything else goes to the full reviewer, as before.

Only a run's first review is eligible, and only when every subtask is done, checks verified the
work, the diff is small (`EngineOptions.quick_review_lines`) and shown whole, only files the plan
named were changed, and nothing sensitive (`sensitive_changes`) was touched. The quick reviewer
sees what the reviewer sees (`reviewer.ask_reviewer`) and answers a smaller schema, with no
follow-ups: `approve` (with no `error` comment) becomes the run's review; `escalate` sends the
diff to the full reviewer, which is not told the quick reviewer's opinion. `--full-review` skips
the step; so does a config without the `quick-reviewer` agent.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.engine.review import Review, ReviewComment
from orchestrate.engine.reviewer import ask_reviewer, diff_limit
from orchestrate.engine.sensitive_changes import runs_later
from orchestrate.engine.verdict import checked_subtasks
from orchestrate.events import RunNotice
from orchestrate.exceptions import NoModelAvailableError, PromptTooLargeError

if TYPE_CHECKING:
    from orchestrate.config.schema import AgentConfig
    from orchestrate.engine.active_run import ActiveRun
    from orchestrate.engine.engine import EngineOptions
    from orchestrate.engine.run_state import RunState

QUICK_REVIEW_LINES = 60
"""Default most changed lines a quick review may approve. The savings suite's changes are 2 to
38 lines (measured on its 15 tasks, as written and planned: a one-line fix is 2, adding tests
for shlex 38), and a small fix with its test is typically under 60: a change a reader takes in
at a glance. Above it, the full reviewer's closer look is worth its price."""
AGENT = "quick-reviewer"
FULL = "reviewer"
"""`RunState.reviewed_by` when the full reviewer decided (a reason may follow)."""
HOW_TO_ANSWER = (
    "## How to answer\nApprove only when the change plainly does the task, all of it and "
    "nothing else; otherwise escalate, and say why in the summary."
)
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


class QuickReview(BaseModel):
    """The quick reviewer's answer: smaller than `Review` (no follow-ups), so its prompt and its
    schema cost less."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["approve", "escalate"]
    """`approve`: plainly right; `escalate`: the full reviewer should look."""
    summary: str
    """One or two sentences on the change; with `escalate`, why."""
    comments: list[ReviewComment] = Field(default_factory=list)
    """Remarks on files and lines; an `error` one escalates."""


def changed_lines(diff: str) -> int | None:
    """Lines added plus lines removed in a unified diff; None when a binary file changed (its
    size in lines is unknown). Counted inside hunks only, so a removed line starting `--` is
    not mistaken for a file header."""
    total, old, new = 0, 0, 0
    for line in diff.splitlines():
        if old > 0 or new > 0:
            if line.startswith("-"):
                old, total = old - 1, total + 1
            elif line.startswith("+"):
                new, total = new - 1, total + 1
            elif not line.startswith("\\"):  # "\ No newline at end of file"
                old, new = old - 1, new - 1
            continue
        hunk = _HUNK.match(line)
        if hunk:
            old, new = (int(count) if count is not None else 1 for count in hunk.groups())
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            return None
    return total


@dataclass(frozen=True)
class Eligibility:
    """Whether the quick reviewer may decide, and why not when it may not."""

    lines: int
    """Changed lines (added + removed)."""
    why_not: str = ""


def eligibility(
    state: RunState, options: EngineOptions, agent: AgentConfig, diff: str, changed: list[str]
) -> Eligibility:
    """Whether `agent` may decide on `diff` (see the module's docstring); `changed` is every
    path the run changed."""
    lines = changed_lines(diff)
    count = lines if lines is not None else 0
    named = {path for sub in state.subtasks().values() for path in sub.edit_files}
    if state.plan is not None:
        named |= {path for sub in state.plan.subtasks for path in sub.edit_files}
    reasons = [
        (state.reviews > 0, "a follow-up round"),
        (not state.results or any(r.status != "done" for r in state.results), "work not done"),
        (not _verified(state), "no check verified the work"),
        (lines is None, "a binary file changed"),
        (count > options.quick_review_lines, f"over {options.quick_review_lines} lines"),
        (len(diff) > diff_limit(agent, options.local_only), "the diff would be cut"),
        (
            any(r.flagged for r in state.results) or any(map(runs_later, changed)),
            "a sensitive change",
        ),
        (not set(changed) <= named, "a file the plan did not name changed"),
    ]
    why_not = next((why for failed, why in reasons if failed), "")
    return Eligibility(lines=count, why_not=why_not)


def _verified(state: RunState) -> bool:
    """Task checks ran and all pass, or there are none and every done subtask's own passed."""
    if state.task_checks:
        return all(check.ok for check in state.task_checks)
    return checked_subtasks(state.results)


async def quick_review(run: ActiveRun, diff: str) -> Review | None:
    """The quick reviewer's approval as the run's review, or None: the full reviewer decides
    (`run.state.reviewed_by` says why). Errors other than "no model usable" propagate, as the
    reviewer's do."""
    state, engine = run.state, run.engine
    assert state.plan is not None  # reviews come after planning
    agent = engine.config.agents.get(AGENT)
    if engine.options.full_review or agent is None:
        state.reviewed_by = f"{FULL} (--full-review)" if agent else FULL
        return None
    changed = await asyncio.to_thread(run.workspace.changed_files)
    allowed = eligibility(state, engine.options, agent, diff, changed)
    if allowed.why_not:
        state.reviewed_by = f"{FULL} (no quick review: {allowed.why_not})"
        return None
    try:
        routed = await ask_reviewer(
            engine.router,
            agent,
            run.task,
            state.plan,
            QuickReview,
            diff=diff,
            results=state.results,
            checks=state.task_checks,
            private=engine.options.local_only,
            omitted=state.omissions,
            rules=run.ctx.rules,
            how_to_answer=HOW_TO_ANSWER,
        )
    except NoModelAvailableError as error:
        if isinstance(error, PromptTooLargeError) or error.busy or error.answered:
            raise
        _say(run, f"quick review: no model was usable ({error}); the full reviewer decides")
        state.reviewed_by = f"{FULL} (no quick-review model was usable)"
        return None
    answer, model = routed.output, routed.model_ref
    assert answer is not None  # ask_reviewer raises otherwise
    errors = [c for c in answer.comments if c.severity == "error"]
    if answer.verdict == "escalate" or errors:
        why = _one_line(
            errors[0].body if errors and answer.verdict == "approve" else answer.summary
        )
        _say(run, f"quick review escalated to the full reviewer: {why}")
        state.reviewed_by = f"{FULL} (the quick reviewer {model} escalated)"
        return None
    checks = "task checks pass" if state.task_checks else "every subtask's checks pass"
    _say(
        run,
        f"quick review by {model} approved: {allowed.lines} changed lines, {checks}; "
        "--full-review for the full reviewer",
    )
    state.reviewed_by = f"{AGENT} {model} ({allowed.lines} changed lines, {checks})"
    return Review(verdict="approve", summary=answer.summary, comments=answer.comments)


def _one_line(text: str, most: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= most else flat[: most - 1] + "…"


def _say(run: ActiveRun, text: str) -> None:
    run.ctx.emit(RunNotice(run_id=run.ctx.run_id, text=text))
