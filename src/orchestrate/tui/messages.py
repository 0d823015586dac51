"""Messages between the engine's worker, the screens and the app; plain dataclasses, as in frogmouth.

Screens post requests (`TaskSubmitted`, `PlanApproved`, ...) that bubble up to the app; the app's
workers post outcomes (`PlanMade`, `RunDone`, ...) and the bridge posts every engine event.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.result import RunResult
from orchestrate.events import Event


@dataclass
class EngineEvent(Message):
    """One event from the engine's bus."""

    event: Event


@dataclass
class TaskSubmitted(Message):
    """The user wrote a task and wants a plan for it."""

    task: TaskSpec


@dataclass
class PlanMade(Message):
    """The planner answered."""

    task: TaskSpec
    plan: Plan


@dataclass
class PlanFailed(Message):
    """The planner could not produce a plan."""

    reason: str


@dataclass
class ReplanRequested(Message):
    """The user wants another plan, with a remark about this one (None if planning failed)."""

    run_id: str
    task: TaskSpec
    plan: Plan | None
    remark: str


@dataclass
class PlanApproved(Message):
    """The user approved a (possibly edited) plan: start the workers."""

    run_id: str
    task: TaskSpec
    plan: Plan


@dataclass
class CancelRequested(Message):
    """The user asked to stop the run."""


@dataclass
class ResumeRequested(Message):
    """Carry on with a cancelled (or killed) run from its saved progress."""

    run_id: str


@dataclass
class RunDone(Message):
    """The engine finished a run (approved, changes requested, or failed)."""

    result: RunResult


@dataclass
class RunStopped(Message):
    """A run ended without a result: cancelled by the user, or broken by an error."""

    run_id: str
    reason: str


@dataclass
class DiffRequested(Message):
    """Open the diff and review of a run."""

    run_id: str


@dataclass
class Accepted(Message):
    """Keep the run's branch, and merge it into the current branch if `merge`."""

    run_id: str
    merge: bool


@dataclass
class SentBack(Message):
    """Not good enough: plan again with this remark, building on the run's branch."""

    run_id: str
    remark: str


@dataclass
class NewTaskRequested(Message):
    """Back to the task input."""
