"""The live run: subtask statuses, a log pane per agent, model swaps and failed checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, RichLog, Static, TabbedContent, TabPane

from orchestrate.engine.plan import AGENT_FOR_KIND, Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.result import RunResult, SubtaskResult
from orchestrate.events import (
    AttemptFinished,
    AttemptStarted,
    CheckFailed,
    EditApplied,
    EditRefused,
    Escalated,
    Event,
    ModelSkipped,
    ModelSwapped,
    ReviewVerdict,
    RoleDegraded,
    RunNotice,
    SubtaskFinished,
    SubtaskReplanned,
    SubtaskStarted,
    SubtaskStatus,
    TokenStreamed,
)
from orchestrate.tui.messages import (
    CancelRequested,
    DiffRequested,
    NewTaskRequested,
    ResumeRequested,
)
from orchestrate.tui.widgets.cost_bar import CostBar
from orchestrate.tui.widgets.degraded_banner import DegradedBanner
from orchestrate.tui.widgets.log_pane import AgentLog
from orchestrate.tui.widgets.subtask_list import SubtaskList

CHECK_OUTPUT_LINES = 20
LOG_MIN_WIDTH = 20
"""Log lines wrap at the pane's width (RichLog's default of 78 is wider than a half pane)."""


def run_agents(plan: Plan | None) -> list[str]:
    """The agents a run of `plan` uses, in the order they work."""
    workers = [s.agent for s in plan.subtasks] if plan is not None else []
    return ["planner", *dict.fromkeys(workers), "reviewer"]


class RunScreen(Screen[None]):
    """Follows one run through its events; the engine itself runs in the app's worker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel", "Cancel run"),
        Binding("r", "resume", "Resume run"),
        Binding("d", "diff", "Diff & review"),
        Binding("n", "new_task", "New task"),
    ]

    def __init__(
        self,
        task: TaskSpec,
        plan: Plan | None,
        run_id: str,
        done: Sequence[SubtaskResult] = (),
    ) -> None:
        """`done` holds the subtasks a resumed run already finished (the engine skips them)."""
        super().__init__()
        self.task_spec, self.plan, self.run_id = task, plan, run_id
        self.agents = run_agents(plan)
        """Agents with a log pane: the planner, the plan's workers, the reviewer."""
        self._logs = {agent: AgentLog(agent, id=f"log-{agent}") for agent in self.agents}
        self.done = list(done)
        self.running = True
        self.resumable = False
        """Whether the run stopped with saved progress to carry on from."""
        self.result: RunResult | None = None
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            AttemptStarted: self._attempt_started,
            AttemptFinished: self._attempt_finished,
            ModelSwapped: self._swapped,
            ModelSkipped: self._skipped,
            TokenStreamed: self._token,
            SubtaskStarted: self._started,
            SubtaskStatus: self._status_changed,
            SubtaskFinished: self._finished,
            CheckFailed: self._check_failed,
            Escalated: self._escalated,
            SubtaskReplanned: self._replanned,
            EditApplied: lambda e: self._activity(f"  {e.subtask_id}: wrote {e.path}"),
            EditRefused: lambda e: self._activity(
                f"✗ {e.subtask_id}: {e.path} refused: {e.reason}"
            ),
            ReviewVerdict: self._verdict,
            RunNotice: lambda e: self._activity(f"ℹ {e.text}"),
            RoleDegraded: self._degraded,
        }

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Run {self.run_id}: {self.task_spec.title}", id="run-task", classes="banner")
        yield DegradedBanner(id="degraded")
        with Horizontal(id="run-body"):
            with Vertical(id="run-left"):
                yield SubtaskList(id="subtasks")
                with VerticalScroll(id="subtask-detail-pane"):
                    yield Static("", id="subtask-detail")
            with Vertical(id="run-right"), TabbedContent(id="logs"):
                with TabPane("activity", id="tab-activity"):
                    yield RichLog(id="activity", wrap=True, markup=False, min_width=LOG_MIN_WIDTH)
                for agent in self.agents:
                    with TabPane(agent, id=f"tab-{agent}"):
                        yield self._logs[agent]
        yield Static("Starting…", id="run-status", classes="status")
        yield CostBar(id="cost")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(SubtaskList)
        if self.plan is not None:
            table.load(self.plan)
        for outcome in self.done:
            table.set_status(outcome.id, outcome.status, f"before resuming: {outcome.detail}")
            table.set_model(outcome.id, outcome.model or "")

    def apply(self, event: Event) -> None:
        """Show one engine event."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _activity(self, line: str) -> None:
        self.query_one("#activity", RichLog).write(line)

    def _log(self, agent: str) -> AgentLog | None:
        """The agent's pane; a worker the plan did not name (a review's follow-up) gets one."""
        log = self._logs.get(agent)
        if log is not None or agent not in AGENT_FOR_KIND.values():
            return log
        self.agents.append(agent)
        log = self._logs[agent] = AgentLog(agent, id=f"log-{agent}")
        self.query_one(TabbedContent).add_pane(TabPane(agent, log, id=f"tab-{agent}"))
        return log

    def _set_model(self, agent: str, line: str) -> None:
        log = self._log(agent)
        if log is not None:
            log.set_model(line)

    def _attempt_started(self, event: AttemptStarted) -> None:
        self._set_model(event.agent, f"{event.agent}: asking {event.model} (try {event.attempt})")
        # Calls do not name their subtask: the model is shown where it cannot be another's.
        table = self.query_one(SubtaskList)
        running = table.running(event.agent)
        if len(running) == 1:
            table.set_model(running[0], event.model)
        log = self._log(event.agent)
        if log is not None and log.text:
            log.write("\n")
        if log is not None:
            log.write(f"── {event.model} ──\n")

    def _attempt_finished(self, event: AttemptFinished) -> None:
        if event.outcome == "ok":
            self._set_model(event.agent, f"{event.agent}: answered by {event.model}")
            tokens = f"{event.input_tokens}→{event.output_tokens} tokens"
            self._activity(f"✓ {event.agent}: {event.model} answered ({tokens})")
            return
        reason = event.error_class or event.outcome
        self._activity(f"✗ {event.agent}: {event.model} failed ({reason})")

    def _swapped(self, event: ModelSwapped) -> None:
        line = f"↪ {event.agent}: {event.from_model} → {event.to_model} ({event.reason})"
        self._set_model(event.agent, f"{event.agent}: fell back to {event.to_model}")
        self._activity(line)

    def _degraded(self, event: RoleDegraded) -> None:
        self.query_one(DegradedBanner).add(event)
        self._activity(f"⚠ degraded: {event.line()}")

    def _skipped(self, event: ModelSkipped) -> None:
        self._activity(f"⤼ {event.agent}: skipped {event.model} ({event.reason})")

    def _token(self, event: TokenStreamed) -> None:
        log = self._log(event.agent)
        if log is not None:
            log.write(event.text)

    def _started(self, event: SubtaskStarted) -> None:
        self.query_one(SubtaskList).set_status(event.subtask_id, "running", agent=event.agent)
        self._status(f"working: {event.subtask_id}")

    def _status_changed(self, event: SubtaskStatus) -> None:
        table = self.query_one(SubtaskList)
        table.set_status(event.subtask_id, event.status, event.detail)
        if event.model:
            table.set_model(event.subtask_id, event.model)

    def _finished(self, event: SubtaskFinished) -> None:
        status = "done" if event.ok else "failed"
        self.query_one(SubtaskList).set_status(event.subtask_id, status, event.detail)
        self._activity(f"{'✓' if event.ok else '✗'} {event.subtask_id} {status}")
        self._show_detail()

    def _check_failed(self, event: CheckFailed) -> None:
        tail = "\n".join(event.output.rstrip().splitlines()[-CHECK_OUTPUT_LINES:])
        note = f"check failed: {event.command}\n{tail}"
        self.query_one(SubtaskList).note(event.subtask_id, note)
        self._activity(f"✗ {event.subtask_id}: {note}")
        self._show_detail()

    def _escalated(self, event: Escalated) -> None:
        note = f"escalated {event.from_model} → {event.to_model}"
        table = self.query_one(SubtaskList)
        table.set_status(event.subtask_id, "escalated", note)
        table.set_model(event.subtask_id, event.to_model)
        self._activity(f"↑ {event.subtask_id}: {note}")

    def _replanned(self, event: SubtaskReplanned) -> None:
        note = f"re-planned by {event.planner}: {event.outcome} ({event.reason})"
        self.query_one(SubtaskList).note(event.subtask_id, note)
        self._activity(f"↻ {event.subtask_id}: {note}")
        self._show_detail()

    def _verdict(self, event: ReviewVerdict) -> None:
        self._status(f"reviewer: {event.verdict} ({event.comments} comments)")
        self._activity(f"reviewer: {event.verdict} with {event.comments} comment(s)")

    def _status(self, text: str) -> None:
        self.query_one("#run-status", Static).update(text)

    def _show_detail(self) -> None:
        table = self.query_one(SubtaskList)
        subtask_id = table.selected_id
        notes = table.details.get(subtask_id, []) if subtask_id else []
        self.query_one("#subtask-detail", Static).update("\n".join(notes))
        self.query_one("#subtask-detail-pane", VerticalScroll).scroll_end(animate=False)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def finished(self, result: RunResult) -> None:
        """The engine returned."""
        self.running, self.result = False, result
        table = self.query_one(SubtaskList)
        for outcome in result.subtasks:
            table.set_model(outcome.id, outcome.model or "")
        self._status(f"{result.status}: {result.detail} — d: diff & review, n: new task")
        self.refresh_bindings()

    def stopped(self, reason: str, resumable: bool = False) -> None:
        """The run was cancelled or broke off; `resumable` if its progress was saved."""
        self.running, self.resumable = False, resumable
        hint = " — r: resume, n: new task" if resumable else ""
        self._status(f"stopped: {reason}{hint}")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        if action == "diff":
            return self.result is not None and self.result.plan is not None
        if action == "resume":
            return not self.running and self.resumable
        return True

    def action_cancel(self) -> None:
        self._status("cancelling…")
        self.post_message(CancelRequested())

    def action_resume(self) -> None:
        self.resumable = False
        self.refresh_bindings()
        self.post_message(ResumeRequested(self.run_id))

    def action_diff(self) -> None:
        self.post_message(DiffRequested(self.run_id))

    def action_new_task(self) -> None:
        self.post_message(NewTaskRequested())
