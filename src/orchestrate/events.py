"""The one event stream. The engine and router emit; progress bars, logs and the TUI subscribe."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str = ""
    """Run this event belongs to; empty outside a run."""
    at: float = Field(default_factory=time.time)
    """Unix time the event was made."""


class AttemptStarted(_Event):
    """A model call is about to be sent."""

    type: Literal["attempt_started"] = "attempt_started"
    agent: str
    model: str
    attempt: int


class AttemptFinished(_Event):
    """A model call ended, well or not; mirrors its ledger row."""

    type: Literal["attempt_finished"] = "attempt_finished"
    agent: str
    model: str
    tier: str
    outcome: str
    """ok, retry, move_on, context_overflow, truncated, stop, invalid_output."""
    error_class: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    host: str = ""
    """The server of a pooled endpoint that served or failed it; empty for one server."""
    batch: bool = False
    """Answered through the vendor's Batch API (at its batch price)."""


class ModelSwapped(_Event):
    """The router left one model for the next in the chain; never silent."""

    type: Literal["model_swapped"] = "model_swapped"
    agent: str
    from_model: str
    to_model: str
    reason: str


class ModelSkipped(_Event):
    """A model in the chain was not tried (cooling down, private request, over budget, too small)."""

    type: Literal["model_skipped"] = "model_skipped"
    agent: str
    model: str
    reason: str


class PromptTruncated(_Event):
    """A server answered after reading only part of the prompt: the answer was discarded and the
    call moves on to a model with a larger window."""

    type: Literal["prompt_truncated"] = "prompt_truncated"
    agent: str
    model: str
    read_tokens: int
    """Prompt tokens the server says it read."""
    sent_tokens: int
    """Prompt tokens sent, at the least."""
    window: int
    """The window the server ran the model with."""


class ContentOmitted(_Event):
    """A model was not shown something it would have been (a file in part or not at all, the
    end of a diff, symbols of the repo map): said, never silent. Also a line in the report."""

    type: Literal["content_omitted"] = "content_omitted"
    agent: str
    subtask_id: str = ""
    """The subtask whose worker was not shown it; empty for the planner and the reviewer."""
    what: str
    """What was left out and why, in one line."""


class TokenStreamed(_Event):
    """Text a model is writing, for live log panes."""

    type: Literal["token_streamed"] = "token_streamed"
    agent: str
    model: str
    text: str


class CostUpdated(_Event):
    """Running totals after a call was recorded."""

    type: Literal["cost_updated"] = "cost_updated"
    cloud_usd: float
    local_tokens: int
    counterfactual_usd: float
    """What the same tokens would have cost all on the reference cloud model."""
    budget_left_usd: float | None = None


class PlanReady(_Event):
    """The planner produced a valid plan."""

    type: Literal["plan_ready"] = "plan_ready"
    task: str
    subtask_ids: list[str]


class SubtaskStarted(_Event):
    """A worker began a subtask."""

    type: Literal["subtask_started"] = "subtask_started"
    subtask_id: str
    agent: str


class SubtaskStatus(_Event):
    """A subtask moved to a new state (checking, escalated, ...)."""

    type: Literal["subtask_status"] = "subtask_status"
    subtask_id: str
    status: Literal["queued", "running", "checking", "escalated", "done", "failed"]
    detail: str = ""
    model: str = ""
    """The model whose answer the subtask is on, once one answered."""


class SubtaskFinished(_Event):
    """A subtask ended."""

    type: Literal["subtask_finished"] = "subtask_finished"
    subtask_id: str
    ok: bool
    commit: str | None = None
    detail: str = ""


class EditApplied(_Event):
    """A worker's edit was written to the work tree."""

    type: Literal["edit_applied"] = "edit_applied"
    subtask_id: str
    path: str


class EditRefused(_Event):
    """A worker's edit was refused."""

    type: Literal["edit_refused"] = "edit_refused"
    subtask_id: str
    path: str
    reason: str


class CheckFailed(_Event):
    """A deterministic check failed; its output goes back to the worker."""

    type: Literal["check_failed"] = "check_failed"
    subtask_id: str
    command: str
    output: str


class Escalated(_Event):
    """A subtask moved to the next model in its chain after failing its checks."""

    type: Literal["escalated"] = "escalated"
    subtask_id: str
    from_model: str
    to_model: str


class SubtaskReplanned(_Event):
    """Every model of a subtask's worker chain failed it, and the planner decided what follows."""

    type: Literal["subtask_replanned"] = "subtask_replanned"
    subtask_id: str
    decision: Literal["rewrite", "split", "stronger", "give_up"]
    outcome: str
    """What follows, in a few words: `split into a, b`, `now on <model>`, `gave up`, ..."""
    reason: str
    """The planner's reason."""
    planner: str
    """The model that decided."""


class ReviewVerdict(_Event):
    """The reviewer decided."""

    type: Literal["review_verdict"] = "review_verdict"
    verdict: Literal["approve", "request_changes"]
    comments: int


class SubscriberFailed(_Event):
    """A listener raised and was dropped; the run and every other listener go on without it."""

    type: Literal["subscriber_failed"] = "subscriber_failed"
    subscriber: str
    """Which listener, e.g. `--log /dev/full`."""
    error: str
    """What it raised, in one line."""


class RoleDegraded(_Event):
    """An agent is now answered by a model below what it was set up for: one unfit for its
    role, the embedded model, or a paid cloud model where a local one came first
    (`routing.degradation`). Said once per run, agent and model."""

    type: Literal["role_degraded"] = "role_degraded"
    agent: str
    model: str
    reason: str

    def line(self) -> str:
        """`coder now on anthropic:claude-haiku-4-5: a paid cloud model, ...`."""
        return f"{self.agent} now on {self.model}: {self.reason}"


class RunNotice(_Event):
    """Something about the run as a whole the user should hear (a lock taken over, a resume)."""

    type: Literal["run_notice"] = "run_notice"
    text: str


class RunFinished(_Event):
    """A run ended."""

    type: Literal["run_finished"] = "run_finished"
    ok: bool
    branch: str | None = None
    detail: str = ""


Event = Annotated[
    AttemptStarted
    | AttemptFinished
    | ModelSwapped
    | ModelSkipped
    | PromptTruncated
    | ContentOmitted
    | TokenStreamed
    | CostUpdated
    | PlanReady
    | SubtaskStarted
    | SubtaskStatus
    | SubtaskFinished
    | EditApplied
    | EditRefused
    | CheckFailed
    | Escalated
    | SubtaskReplanned
    | ReviewVerdict
    | SubscriberFailed
    | RoleDegraded
    | RunNotice
    | RunFinished,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
"""Parses an event back from its JSON log line."""

Subscriber = Callable[[Event], None]


def subscriber_name(subscriber: Subscriber) -> str:
    """How a listener is named when it fails: its `name` attribute, else its type or function."""
    name = getattr(subscriber, "name", None)
    if isinstance(name, str) and name:
        return name
    return str(getattr(subscriber, "__qualname__", type(subscriber).__name__))


class EventBus:
    """Synchronous fan-out: emitting never awaits, so the engine's timing does not depend on listeners.

    Listeners are isolated from the run and from each other: one that raises (a log on a full
    disk, a broken display) is dropped and reported to the others as `SubscriberFailed`; the run
    goes on. Cancellation and interrupts (BaseException) are not listener failures and pass.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a listener; returns a function that removes it (harmless if it was dropped)."""
        self._subscribers.append(subscriber)
        return lambda: self._remove(subscriber)

    def emit(self, event: Event) -> None:
        """Deliver an event to every listener, in subscription order."""
        for subscriber in list(self._subscribers):
            if subscriber not in self._subscribers:
                continue  # dropped while this event was being delivered
            try:
                subscriber(event)
            except Exception as error:  # noqa: BLE001 - reported below as an event, never hidden
                self._remove(subscriber)
                said = str(error).splitlines()[0] if str(error) else ""
                self.emit(
                    SubscriberFailed(
                        run_id=event.run_id,
                        subscriber=subscriber_name(subscriber),
                        error=f"{type(error).__name__}: {said}" if said else type(error).__name__,
                    )
                )

    def _remove(self, subscriber: Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)
