"""Watching a run: live bars on a terminal, one plain line per event elsewhere.

Both are event-bus subscribers; the engine knows nothing of them (nor of `event_log`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from orchestrate.events import (
    AttemptFinished,
    CheckFailed,
    ContentOmitted,
    CostUpdated,
    EditRefused,
    Escalated,
    Event,
    ModelSkipped,
    ModelSwapped,
    PlanReady,
    PromptTruncated,
    ReviewVerdict,
    RoleDegraded,
    RunFinished,
    RunNotice,
    SubscriberFailed,
    SubtaskFinished,
    SubtaskReplanned,
    SubtaskStarted,
    SubtaskStatus,
)
from orchestrate.privacy.masking import mask_keys

_LAST_LINE_CHARS = 160


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:_LAST_LINE_CHARS] if lines else ""


def _finished(event: SubtaskFinished) -> str:
    if event.ok:
        where = f"commit {event.commit[:10]}" if event.commit else "no change needed"
        return f"{event.subtask_id}: done ({where})"
    return f"{event.subtask_id}: FAILED: {event.detail}"


def _attempt_line(event: AttemptFinished) -> str:
    # A pooled endpoint's host, and the Batch API, are said where the model is.
    where = (f" on {event.host}" if event.host else "") + (" (batch)" if event.batch else "")
    if event.outcome != "ok":
        why = f" ({event.error_class})" if event.error_class else ""
        return f"{event.agent}: {event.model}{where} → {event.outcome}{why}"
    # Slow local models can take minutes per call: each answer is a sign of life.
    tokens = f"{event.input_tokens:,} in, {event.output_tokens:,} out"
    return f"{event.agent}: {event.model}{where} answered ({tokens}, {event.latency_s:.1f}s)"


def _subtask_line(event: Event) -> str | None:
    match event:
        case SubtaskStarted():
            return f"{event.subtask_id}: started ({event.agent})"
        case SubtaskStatus(status="checking"):
            return f"{event.subtask_id}: checking"
        case SubtaskStatus(status="queued") if event.detail:
            return f"{event.subtask_id}: {event.detail}"
        case SubtaskFinished():
            return _finished(event)
        case CheckFailed():
            return f"{event.subtask_id}: check failed: {event.command}: {_last_line(event.output)}"
        case EditRefused():
            return f"{event.subtask_id}: edit to {event.path} refused: {event.reason}"
    return _moved_line(event)


def _moved_line(event: Event) -> str | None:
    """A subtask handed on: to a stronger model, or back to the planner."""
    match event:
        case Escalated():
            return f"{event.subtask_id}: escalated {event.from_model} → {event.to_model}"
        case SubtaskReplanned():
            return (
                f"{event.subtask_id}: re-planned by {event.planner}: {event.outcome} "
                f"({event.reason})"
            )
    return None


def _run_line(event: Event) -> str | None:
    match event:
        case PlanReady():
            return f"plan ready: {len(event.subtask_ids)} subtasks ({', '.join(event.subtask_ids)})"
        case ModelSwapped():
            return f"{event.agent}: {event.from_model} failed ({event.reason}) → {event.to_model}"
        case ModelSkipped():
            return f"{event.agent}: skipped {event.model} ({event.reason})"
        case AttemptFinished():
            return _attempt_line(event)
        case ReviewVerdict():
            return f"review: {event.verdict} ({event.comments} comments)"
        case RunFinished():
            return f"run {'approved' if event.ok else 'not approved'}: {event.detail}"
    return None


def _warning_line(event: Event) -> str | None:
    match event:
        case PromptTruncated():
            return (
                f"{event.agent}: {event.model} read only {event.read_tokens:,} of at least "
                f"{event.sent_tokens:,} prompt tokens (it runs {event.window:,}): answer discarded"
            )
        case ContentOmitted():
            who = event.subtask_id or event.agent
            return f"{who}: not shown to the model: {event.what}"
        case SubscriberFailed():
            return (
                f"warning: {event.subscriber} stopped ({event.error}); the run goes on without it"
            )
        case RoleDegraded():
            return f"degraded: {event.line()}"
    return None


def describe(event: Event) -> str | None:
    """One line for an event worth a log line; None for the chatty ones (tokens, costs, ...)."""
    line = event.text if isinstance(event, RunNotice) else None
    line = line or _subtask_line(event) or _run_line(event) or _warning_line(event)
    return None if line is None else mask_keys(line)


class _Listener:
    """What every progress display offers the `run` command."""

    def begin_task(self, index: int, total: int, title: str, run_id: str) -> None:
        """A task is about to be run (or planned, in a dry run)."""

    def __call__(self, event: Event) -> None:
        """Take one event from the bus."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class PlainLog(_Listener):
    """One line per notable event, for pipes, CI logs and dumb terminals."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._labels: dict[str, str] = {}
        self._skips_told: set[tuple[str, str, str]] = set()

    def begin_task(self, index: int, total: int, title: str, run_id: str) -> None:
        label = f"task {index}/{total}"
        self._labels[run_id] = label
        self._print(f"[{label}] {title} (run {run_id or 'dry'})")

    def __call__(self, event: Event) -> None:
        if isinstance(event, ModelSkipped):
            # The router reports a keyless model at every call; once per run says it all.
            key = (event.run_id, event.agent, event.model)
            if key in self._skips_told:
                return
            self._skips_told.add(key)
        line = describe(event)
        if line is not None:
            label = self._labels.get(event.run_id, event.run_id or "dry")
            self._print(f"[{label}] {line}")

    def _print(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


@dataclass
class _SubtaskView:
    id: str
    agent: str = ""
    status: str = "queued"
    detail: str = ""


@dataclass
class _TaskView:
    title: str
    phase: str = "planning"
    subtasks: dict[str, _SubtaskView] = field(default_factory=dict)
    cost: CostUpdated | None = None


_STYLE = {"done": "green", "failed": "red", "escalated": "yellow", "checking": "cyan"}
_MARK = {"done": "✓", "failed": "✗", "queued": "·", "escalated": "↑"}


class LiveProgress(_Listener):
    """A live table of tasks and their subtasks; notable events are also printed above it."""

    def __init__(self, console: Console) -> None:
        self._log = PlainLog(console)
        self._tasks: dict[str, _TaskView] = {}
        self._lock = threading.Lock()
        self._live = Live(
            console=console, get_renderable=self._render, refresh_per_second=8, transient=False
        )

    def __enter__(self) -> Self:
        self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.stop()

    def begin_task(self, index: int, total: int, title: str, run_id: str) -> None:
        with self._lock:
            self._tasks[run_id] = _TaskView(title=f"{index}/{total} {title}")
        self._log.begin_task(index, total, title, run_id)

    def __call__(self, event: Event) -> None:
        with self._lock:
            view = self._tasks.get(event.run_id)
            if view is not None:
                _update(view, event)
        notable = (
            Escalated | SubtaskReplanned | ModelSwapped | ReviewVerdict | RunFinished | CheckFailed
        )
        warning = SubscriberFailed | PromptTruncated | RunNotice | RoleDegraded
        if isinstance(event, notable | warning):
            self._log(event)

    def _render(self) -> RenderableType:
        with self._lock:
            tasks = list(self._tasks.values())
            return Group(_table(tasks), _totals(tasks))


def _update(view: _TaskView, event: Event) -> None:
    match event:
        case PlanReady():
            view.phase = "working"
            for sid in event.subtask_ids:
                view.subtasks.setdefault(sid, _SubtaskView(sid))
        case SubtaskStatus():
            sub = view.subtasks.setdefault(event.subtask_id, _SubtaskView(event.subtask_id))
            sub.status, sub.detail = event.status, event.detail or sub.detail
        case SubtaskStarted():
            sub = view.subtasks.setdefault(event.subtask_id, _SubtaskView(event.subtask_id))
            sub.agent = event.agent
        case SubtaskFinished():
            sub = view.subtasks.setdefault(event.subtask_id, _SubtaskView(event.subtask_id))
            sub.status = "done" if event.ok else "failed"
            sub.detail = event.detail or sub.detail
        case Escalated():
            view.subtasks.setdefault(
                event.subtask_id, _SubtaskView(event.subtask_id)
            ).detail = f"now on {event.to_model}"
        case ReviewVerdict():
            view.phase = "approved" if event.verdict == "approve" else "changes requested"
        case RunFinished():
            view.phase = "approved" if event.ok else "not approved"
        case CostUpdated():
            view.cost = event
        case _:
            return


def _status_cell(status: str) -> RenderableType:
    if status in ("running", "checking"):
        return Spinner("dots", text=Text(status, style=_STYLE.get(status, "")))
    return Text(f"{_MARK.get(status, '!')} {status}", style=_STYLE.get(status, ""))


def _table(tasks: list[_TaskView]) -> Table:
    table = Table(show_header=True, header_style="bold", expand=False, box=None)
    # Names fold onto a second line rather than lose their end; only the detail (said in full
    # by the log lines above the table) is shortened.
    for column in ("task / subtask", "agent", "status"):
        table.add_column(column, overflow="fold")
    table.add_column("detail", overflow="ellipsis", no_wrap=True, max_width=60)
    for task in tasks:
        table.add_row(Text(task.title, style="bold"), "", Text(task.phase, style="bold"), "")
        for sub in task.subtasks.values():
            table.add_row(f"  {sub.id}", sub.agent, _status_cell(sub.status), sub.detail)
    return table


def _totals(tasks: list[_TaskView]) -> Text:
    # Each task has its own router, so each reports its own running totals.
    costs = [view.cost for view in tasks if view.cost is not None]
    cloud = sum(cost.cloud_usd for cost in costs)
    local = sum(cost.local_tokens for cost in costs)
    return Text(f"cloud ${cloud:.4f} · local tokens {local:,}", style="dim")


def make_progress(console: Console, live: bool) -> LiveProgress | PlainLog:
    """Live bars when `live` (a terminal), else plain lines."""
    return LiveProgress(console) if live else PlainLog(console)
