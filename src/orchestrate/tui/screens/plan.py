"""Review the plan: edit, drop or add subtasks, re-plan with a remark, or approve it."""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, LoadingIndicator, Log, Markdown, Static, Tree

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.engine.plan import Plan, Subtask
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.events import Event, ModelSwapped, RoleDegraded, TokenStreamed
from orchestrate.tui.messages import CancelRequested, PlanApproved, ReplanRequested
from orchestrate.tui.screens.dialogs import RemarkDialog
from orchestrate.tui.screens.subtask_form import SubtaskForm
from orchestrate.tui.widgets.cost_bar import CostBar
from orchestrate.tui.widgets.degraded_banner import DegradedBanner
from orchestrate.tui.widgets.plan_tree import PlanTree


def spec_markdown(subtask: Subtask) -> str:
    """The selected subtask's spec, as shown beside the tree."""
    return f"### {subtask.id}: {subtask.title}\n\n{subtask.spec}"


def without(plan: Plan, subtask_id: str) -> Plan:
    """The plan minus one subtask; dependencies on it are dropped too."""
    kept = [
        s.model_copy(update={"depends_on": [d for d in s.depends_on if d != subtask_id]})
        for s in plan.subtasks
        if s.id != subtask_id
    ]
    return Plan.model_validate({"summary": plan.summary, "subtasks": kept})


class PlanScreen(Screen[None]):
    """Shows `Planning…` until the plan arrives, then the plan tree and the selected spec."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "approve", "Approve & run", priority=True),
        Binding("e", "edit", "Edit"),
        Binding("n", "add", "Add"),
        Binding("d", "drop", "Drop"),
        Binding("r", "replan", "Re-plan"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, task: TaskSpec, config: OrchestrateConfig, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.task_spec = task
        self.config = config
        self.plan: Plan | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Task: {self.task_spec.title}", id="plan-task", classes="banner")
        yield DegradedBanner(id="degraded")
        yield LoadingIndicator(id="planning")
        yield Log(id="planner-log", auto_scroll=True)
        with Horizontal(id="plan-body"):
            yield PlanTree(self.config, id="plan-tree")
            with VerticalScroll(id="spec-pane"):
                yield Markdown("", id="spec")
        yield Static("Planning…", id="plan-status", classes="status")
        yield CostBar(id="cost")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan-body").display = False

    def planning(self) -> None:
        """Waiting for the planner."""
        self.query_one("#planning").display = True
        self.query_one("#plan-body").display = False
        log = self.query_one("#planner-log", Log)
        log.clear()
        log.display = True
        self._status("Planning…")

    def apply(self, event: Event) -> None:
        """While planning, show what the planner writes and any fallback it takes."""
        if isinstance(event, TokenStreamed):
            self.query_one("#planner-log", Log).write(event.text)
        elif isinstance(event, RoleDegraded):
            self.query_one(DegradedBanner).add(event)
        elif isinstance(event, ModelSwapped):
            self._status(
                f"Planning… {event.from_model} failed ({event.reason}); trying {event.to_model}"
            )

    def show_plan(self, plan: Plan) -> None:
        """Show a new or edited plan."""
        self.plan = plan
        self.query_one("#planning").display = False
        self.query_one("#planner-log").display = False
        self.query_one("#plan-body").display = True
        tree = self.query_one(PlanTree)
        tree.show(plan)
        tree.focus()
        self._show_spec()
        count = len(plan.subtasks)
        self._status(f"{count} subtask{'s' * (count != 1)}. Approve with ctrl+s, or edit first.")
        self.refresh_bindings()

    def show_error(self, reason: str) -> None:
        """The planner failed: say why; the user can re-plan or go back."""
        self.query_one("#planning").display = False
        self._status(f"[red]{reason}[/] — press r to re-plan or escape to go back")

    def _status(self, text: str) -> None:
        self.query_one("#plan-status", Static).update(text)

    def _selected(self) -> Subtask | None:
        subtask_id = self.query_one(PlanTree).selected_id
        return self.plan.get(subtask_id) if self.plan and subtask_id else None

    def _show_spec(self) -> None:
        subtask = self._selected()
        self.query_one("#spec", Markdown).update(spec_markdown(subtask) if subtask else "")

    def on_tree_node_highlighted(self, _: Tree.NodeHighlighted[str]) -> None:
        self._show_spec()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"approve", "edit", "add", "drop"}:
            return self.plan is not None
        return True

    def action_approve(self) -> None:
        if self.plan is not None:
            self.post_message(PlanApproved(self.run_id, self.task_spec, self.plan))

    def action_edit(self) -> None:
        subtask = self._selected()
        if subtask is not None:
            self.app.push_screen(SubtaskForm(subtask, self._ids()), self._replace)

    def action_add(self) -> None:
        self.app.push_screen(SubtaskForm(None, self._ids()), self._replace)

    def _ids(self) -> set[str]:
        return {s.id for s in self.plan.subtasks} if self.plan else set()

    def _replace(self, subtask: Subtask | None) -> None:
        if subtask is None or self.plan is None:
            return
        ids = [s.id for s in self.plan.subtasks]
        subtasks = list(self.plan.subtasks)
        if subtask.id in ids:
            subtasks[ids.index(subtask.id)] = subtask
        else:
            subtasks.append(subtask)
        self._validated({"summary": self.plan.summary, "subtasks": subtasks})

    def _validated(self, data: dict[str, object]) -> None:
        try:
            plan = Plan.model_validate(data)
        except ValidationError as error:
            self.notify(str(error.errors()[0]["msg"]), title="Plan not changed", severity="error")
            return
        self.show_plan(plan)

    def action_drop(self) -> None:
        subtask = self._selected()
        if subtask is None or self.plan is None:
            return
        if len(self.plan.subtasks) == 1:
            self.notify("A plan needs one subtask: re-plan instead.", severity="warning")
            return
        self.show_plan(without(self.plan, subtask.id))

    def action_replan(self) -> None:
        def send(remark: str | None) -> None:
            if remark:
                self.planning()
                self.post_message(ReplanRequested(self.run_id, self.task_spec, self.plan, remark))

        self.app.push_screen(RemarkDialog("What should the planner do differently?"), send)

    def action_back(self) -> None:
        # Posted to the app: this screen's own queue closes when it is dismissed.
        self.app.post_message(CancelRequested())
        self.dismiss()
