"""What a run produced: per-subtask outcomes, the review, commits and costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from orchestrate.engine.checks import CheckResult
from orchestrate.engine.commands import CommandRecord
from orchestrate.engine.plan import Plan, Subtask
from orchestrate.engine.review import Review
from orchestrate.exceptions import BudgetExceededError, NoModelAvailableError, PromptTooLargeError

FailureSide = Literal["task", "infrastructure"]
OUTSIDE = (NoModelAvailableError, BudgetExceededError)
"""Failures of a planner or reviewer call from outside the task (servers down, the budget spent):
the run can be carried on once they are fixed. A rejected request or a garbled answer would only
fail again."""


def outside_task(error: Exception) -> bool:
    """Whether a planner or reviewer failure came from outside the task (see `OUTSIDE`)."""
    if isinstance(error, PromptTooLargeError):
        return False  # the prompt will not shrink by waiting
    if isinstance(error, NoModelAvailableError):
        return not error.answered  # replayed, the same unusable answers would fail again
    return isinstance(error, OUTSIDE)


@dataclass(frozen=True)
class Attempt:
    """One failed reply of a worker's model: what the worker was told was wrong with it (a
    failing check's output, an edit that did not apply or parse)."""

    model: str
    """The model that wrote the reply."""
    problem: str
    """The feedback its worker got, check output included (already cut to its tail)."""


class SubtaskResult(BaseModel):
    """How one subtask ended."""

    id: str
    """The subtask's id."""
    title: str
    """The subtask's title (and commit title)."""
    kind: str
    """code, test or format."""
    agent: str
    """Worker agent that ran it."""
    status: Literal["done", "failed"]
    """Finished with passing checks, or not."""
    commit: str | None
    """Sha of its commit; None when it failed or changed nothing."""
    model: str | None
    """The model whose edit passed (or that was last tried, on failure)."""
    rounds: int
    """Model replies used, over all models."""
    escalations: list[str] = Field(default_factory=list)
    """`from -> to` for each move to a stronger model after failed rounds."""
    detail: str
    """One line: what happened, or why it failed."""
    failure: FailureSide | None = None
    """On failure: the work was wrong (`task`) or no model could be reached (`infrastructure`)."""
    checks: list[CheckResult] = Field(default_factory=list)
    """Results of the last run of its acceptance checks."""
    omissions: list[str] = Field(default_factory=list)
    """What its worker's models were not shown (files in part or left out), one line each."""
    flagged: list[str] = Field(default_factory=list)
    """Changes that need the user's yes (`sensitive_changes`), and whether they got it."""
    replans: list[str] = Field(default_factory=list)
    """What the planner decided each time its worker chain was used up, one line each."""

    @classmethod
    def ended(cls, subtask: Subtask, reason: str) -> SubtaskResult:
        """A subtask failed without work of its own to show: it never ran (a dependency failed)
        or the planner gave up on it."""
        return cls(
            id=subtask.id,
            title=subtask.title,
            kind=subtask.kind,
            agent=subtask.agent,
            status="failed",
            commit=None,
            model=None,
            rounds=0,
            detail=reason,
            failure="task",
        )


class RunResult(BaseModel):
    """Everything a run did, for the CLI, the TUI and the pull request."""

    run_id: str
    """The run's id (also in the branch name and commit trailers)."""
    task: str
    """The task title."""
    branch: str
    """The run's branch, `orchestrate/<run_id>`."""
    worktree: str
    """Path of the run's worktree."""
    base_sha: str
    """Commit the branch started from."""
    status: Literal["approved", "changes_requested", "unchecked", "failed"]
    """The reviewer approved and task checks pass; changes still wanted; the reviewer approved
    but no task check ran (not approved unless the user accepted that); or the run broke off."""
    not_reviewed: str = ""
    """Why the run was not reviewed, if it was not: its checks decided the status instead."""
    plan: Plan | None
    """The plan, if planning succeeded."""
    subtasks: list[SubtaskResult]
    """Every subtask run, follow-ups included, in the order they finished."""
    review: Review | None
    """The last review, if one was made."""
    reviewed_by: str = ""
    """Who made the last review (`RunState.reviewed_by`)."""
    commits: list[str]
    """Shas of the run's commits, oldest first."""
    cloud_usd: float
    """Spent on cloud models during this run."""
    local_tokens: int
    """Tokens served by local models during this run."""
    counterfactual_usd: float
    """What the same calls would have cost all on the reference cloud model."""
    detail: str
    """One line summing up the outcome."""
    task_checks: list[CheckResult] = Field(default_factory=list)
    """The task-level checks (from plan.md) as last run."""
    omissions: list[str] = Field(default_factory=list)
    """Everything a model was not shown, one line each: `planner: ...`, `<subtask id>: ...`."""
    resumable: bool = False
    """It failed for a reason outside the task (no model reachable, the budget spent): once that
    is fixed, `--resume` carries it on without planning again or paying twice."""
    commands: list[CommandRecord] = Field(default_factory=list)
    """Every command of the run: who proposed it, who approved it, how often it ran."""
    flagged: list[str] = Field(default_factory=list)
    """Every change that needed the user's yes, `<subtask id>: ...`, and whether it got it."""
