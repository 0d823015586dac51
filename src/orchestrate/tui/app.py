"""`OrchestrateApp`: task → plan → live run → diff and review, over the same engine as `orchestrate run`.

The app only moves between screens and starts workers; the engine does the work. Screens post
requests as messages, workers post outcomes, and the bridge posts every engine event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any, ClassVar

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from orchestrate.engine.engine import RUN_ERRORS
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.result import RunResult
from orchestrate.engine.session import Session
from orchestrate.events import CostUpdated, RoleDegraded
from orchestrate.exceptions import OrchestrateError, RepoError
from orchestrate.tui.bridge import EventBridge
from orchestrate.tui.diff_parse import parse_diff
from orchestrate.tui.driver import Driver, RunIds, with_remark
from orchestrate.tui.history import TaskHistory
from orchestrate.tui.live_run import ENGINE, LiveRun, LiveRunApp
from orchestrate.tui.messages import (
    Accepted,
    CancelRequested,
    DiffRequested,
    EngineEvent,
    NewTaskRequested,
    PlanApproved,
    PlanFailed,
    PlanMade,
    ReplanRequested,
    ResumeRequested,
    RunDone,
    RunStopped,
    SentBack,
    TaskSubmitted,
)
from orchestrate.tui.screens.approval import ask_in_app
from orchestrate.tui.screens.change_approval import confirm_changes_in_app
from orchestrate.tui.screens.help import HelpScreen
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.review import ReviewScreen
from orchestrate.tui.screens.run import RunScreen
from orchestrate.tui.screens.runs import RunsScreen
from orchestrate.tui.screens.task import TaskScreen
from orchestrate.tui.widgets.cost_bar import CostTotals

HISTORY_FILE = "tui-history.json"


class OrchestrateApp(LiveRunApp):
    """The interactive front end; `session` carries the config, ledger, budget and event bus.

    Returns what to tell the user after it quits (how to resume a run it stopped), if anything.
    """

    CSS_PATH = "app.tcss"
    TITLE = "orchestrate"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        # In every footer would crowd out the screen's own keys at 80 columns: the task screen
        # shows it, the palette and help list it.
        Binding("ctrl+r", "runs", "Past runs", show=False),
    ]
    cost: reactive[CostTotals] = reactive(CostTotals)
    """Session spend so far; every `CostBar` follows it."""

    def __init__(
        self,
        session: Session,
        *,
        run_ids: RunIds | None = None,
        history: TaskHistory | None = None,
    ) -> None:
        super().__init__()
        # Below 100 columns, side-by-side panes stack (`Screen.-narrow` in app.tcss).
        self.HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
        self.session = session
        # The log panes show what models write as they write it.
        session.stream_tokens = True
        self.driver = Driver(session, run_ids)
        # Every command a model wrote is shown whole and approved here before it runs.
        session.approve = partial(ask_in_app, self)
        # So is every edit adding a workflow, a git hook, a CI file or one of our keys.
        session.approve_changes = partial(confirm_changes_in_app, self)
        history_path = session.repo / ".orchestrate" / HISTORY_FILE
        self.history = history if history is not None else TaskHistory(history_path)
        self.bridge = EventBridge(session.events, self)
        self.results: dict[str, RunResult] = {}
        """Runs finished in this session, by id."""
        self._banked = CostTotals()
        self._tasks: dict[str, TaskSpec] = {}
        self._continues: dict[str, str] = {}
        """Runs made from work sent back: the new run's id → the earlier run it builds on."""
        self._plan_screen: PlanScreen | None = None
        self._run_screen: RunScreen | None = None

    def on_mount(self) -> None:
        self.sub_title = self.session.repo.name
        self.bridge.start()
        self.push_screen(TaskScreen(self.history))

    def on_unmount(self) -> None:
        self.bridge.stop()

    # Engine events ---------------------------------------------------------------------------

    def on_engine_event(self, message: EngineEvent) -> None:
        event = message.event
        if isinstance(event, CostUpdated):
            self.cost = self._banked.plus(event)
            return
        if isinstance(event, RoleDegraded):
            self.notify(event.line(), title="Degraded", severity="warning", timeout=10)
        # Only screens still on the stack are told: a dismissed one has no widgets to update.
        run, plan = self._shown_run(event.run_id), self._plan_screen
        if run is not None:
            run.apply(event)
        elif plan is not None and plan in self.screen_stack:
            plan.apply(event)

    def _bank(self) -> None:
        # Each plan or run has its own router, whose totals start at zero.
        self._banked = self.cost

    # Planning --------------------------------------------------------------------------------

    def on_task_submitted(self, message: TaskSubmitted) -> None:
        self.when_free("plan a new task", partial(self._start_planning, message.task))

    def _start_planning(self, task: TaskSpec, continues: str | None = None) -> None:
        run_id = self.driver.next_run_id(task)
        self._tasks[run_id] = task
        if continues is not None:
            self._continues[run_id] = continues
        self._run_screen = None
        self._plan_screen = PlanScreen(task, self.session.config, run_id)
        self.push_screen(self._plan_screen)
        self._plan(task, self._going_live(run_id, "planning"))

    @work(exclusive=True, group=ENGINE)
    async def _plan(self, task: TaskSpec, live: LiveRun) -> None:
        run_id = live.run_id
        try:
            plan = await self.session.plan(task, run_id, self._continues.get(run_id))
        except (RepoError, *RUN_ERRORS) as error:
            self.post_message(PlanFailed(f"planning failed: {error}"))
            return
        finally:
            self._gone(live)
        self.post_message(PlanMade(task, plan))

    def on_plan_made(self, message: PlanMade) -> None:
        self._bank()
        if self._plan_screen is not None:
            self._plan_screen.show_plan(message.plan)

    def on_plan_failed(self, message: PlanFailed) -> None:
        self._bank()
        if self._plan_screen is not None:
            self._plan_screen.show_error(message.reason)

    def on_replan_requested(self, message: ReplanRequested) -> None:
        task = with_remark(message.task, message.plan, message.remark)
        run_id = message.run_id
        self._tasks[run_id] = task
        if self._plan_screen is not None:
            self._plan_screen.task_spec = task
        self._plan(task, self._going_live(run_id, "planning"))

    # Running ---------------------------------------------------------------------------------

    def on_plan_approved(self, message: PlanApproved) -> None:
        run_id = message.run_id
        self._run_screen = RunScreen(message.task, message.plan, run_id)
        self._plan_screen = None
        self.switch_screen(self._run_screen)
        continues = self._continues.get(run_id)
        carry_out = partial(
            self.session.run, message.task, run_id, plan=message.plan, continues=continues
        )
        self._run(self._going_live(run_id, "running"), carry_out)

    def on_resume_requested(self, message: ResumeRequested) -> None:
        run_id = message.run_id
        if self.live is not None and self.live.run_id == run_id:
            self.notify("It is running already.", title=f"Run {run_id}", severity="warning")
            return
        self.when_free(f"resume run {run_id}", partial(self._resume, run_id))

    def _resume(self, run_id: str) -> None:
        try:
            state = self.driver.state(run_id)
        except RepoError as error:
            self.notify(str(error), title="Cannot resume", severity="error")
            return
        screen = RunScreen(state.task, state.plan, run_id, done=state.results)
        self._tasks[run_id] = state.task
        self._run_screen, self._plan_screen = screen, None
        self._to_task_screen()
        self.push_screen(screen)
        self._run(self._going_live(run_id, "running"), partial(self.session.resume, run_id))

    @work(exclusive=True, group=ENGINE)
    async def _run(self, live: LiveRun, carry_out: Callable[[], Awaitable[RunResult]]) -> None:
        run_id = live.run_id
        try:
            result = await carry_out()
        except asyncio.CancelledError:
            reason = f"cancelled; branch orchestrate/{run_id} keeps the finished subtasks"
            self.post_message(RunStopped(run_id, reason))
            raise
        except OrchestrateError as error:
            self.post_message(RunStopped(run_id, str(error)))
            return
        finally:
            self._gone(live)
        self.post_message(RunDone(result))

    def on_run_done(self, message: RunDone) -> None:
        self._bank()
        result = message.result
        self.results[result.run_id] = result
        screen = self._shown_run(result.run_id)
        if screen is not None:
            screen.finished(result)
        self.notify(result.detail, title=f"Run {result.status.replace('_', ' ')}")

    def on_run_stopped(self, message: RunStopped) -> None:
        self._bank()
        screen = self._shown_run(message.run_id)
        if screen is not None:
            screen.stopped(message.reason, bool(self.driver.resumable([message.run_id])))
        self.notify(message.reason, title="Run stopped", severity="warning")

    def _shown_run(self, run_id: str) -> RunScreen | None:
        """The screen following `run_id`, if it is still on the stack (a dismissed one has no
        widgets left to update)."""
        screen = self._run_screen
        if screen is not None and screen.run_id == run_id and screen in self.screen_stack:
            return screen
        return None

    def on_cancel_requested(self, _: CancelRequested) -> None:
        self.workers.cancel_group(self, ENGINE)

    # Review ----------------------------------------------------------------------------------

    def on_diff_requested(self, message: DiffRequested) -> None:
        self._open_diff(message.run_id)

    @work(group="git")
    async def _open_diff(self, run_id: str) -> None:
        try:
            text = await asyncio.to_thread(self.driver.diff, run_id)
        except RepoError as error:
            self.notify(str(error), title="No diff", severity="error")
            return
        review, outcome, status = self.driver.outcome(run_id, self.results.get(run_id))
        self.push_screen(ReviewScreen(run_id, parse_diff(text), review, outcome, status))

    def on_accepted(self, message: Accepted) -> None:
        if self.live is not None and self.live.run_id == message.run_id:
            self.notify("It is running: cancel it first.", title="Not accepted", severity="error")
            return
        self._accept(message.run_id, message.merge)

    @work(group="git")
    async def _accept(self, run_id: str, merge: bool) -> None:
        try:
            done = await asyncio.to_thread(self.driver.accept, run_id, merge)
        except RepoError as error:
            self.notify(str(error), title="Not accepted", severity="error")
            return
        self.notify(done, title="Accepted")
        self._to_task_screen()

    def on_sent_back(self, message: SentBack) -> None:
        task, result = self._tasks.get(message.run_id), self.results.get(message.run_id)
        plan = result.plan if result else None
        if task is None:
            # A past run: its task and plan are in its saved state.
            try:
                state = self.driver.state(message.run_id)
            except RepoError as error:
                self.notify(str(error), title="Cannot send back", severity="error")
                return
            task, plan = state.task, state.plan
        again = with_remark(task, plan, message.remark)
        self.when_free("plan again", partial(self._send_back, again, message.run_id))

    def _send_back(self, task: TaskSpec, run_id: str) -> None:
        self._to_task_screen()
        self._start_planning(task, continues=run_id)

    def on_new_task_requested(self, _: NewTaskRequested) -> None:
        self.action_new_task()

    def action_new_task(self) -> None:
        """Back to the task input (asking first if a run is under way)."""
        self.when_free("start a new task", self._to_task_screen)

    # Help, history and the command palette ---------------------------------------------------

    def action_help(self) -> None:
        screens: dict[str, list[BindingType]] = {
            "Everywhere": list(self.BINDINGS),
            "Task": list(TaskScreen.BINDINGS),
            "Plan": list(PlanScreen.BINDINGS),
            "Run": list(RunScreen.BINDINGS),
            "Diff & review": list(ReviewScreen.BINDINGS),
            "Past runs": list(RunsScreen.BINDINGS),
        }
        self.push_screen(HelpScreen(screens))

    def action_runs(self) -> None:
        live = self.live.run_id if self.live is not None and self.live.blocks else None
        self.push_screen(RunsScreen(self.driver.runs(live)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New task", "Back to the task input", self.action_new_task)
        yield SystemCommand("Past runs", "Runs recorded in the ledger", self.action_runs)
        yield SystemCommand("Help", "Keys and what orchestrate does", self.action_help)
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            action = binding.action.split("(", 1)[0]
            if screen.check_action(action, ()) is True:
                run = partial(screen.run_action, binding.action)
                yield SystemCommand(binding.description, f"key: {binding.key}", run)
