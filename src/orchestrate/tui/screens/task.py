"""The start screen: write a task (multi-line, with history) and ask for a plan."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static, TextArea

from orchestrate.engine.plan_md import TaskSpec
from orchestrate.tui.history import TaskHistory
from orchestrate.tui.messages import TaskSubmitted
from orchestrate.tui.widgets.cost_bar import CostBar

TITLE_MAX = 120


def task_from_text(text: str) -> TaskSpec:
    """The first line is the title; the whole text is the instructions."""
    title = text.strip().splitlines()[0].strip().lstrip("#").strip()[:TITLE_MAX]
    return TaskSpec(title=title, instructions=text.strip(), line=1)


class TaskScreen(Screen[None]):
    """Where every run starts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Not a priority binding: keys typed just before ctrl+s reach the text first.
        Binding("ctrl+s", "submit", "Plan it"),
        Binding("ctrl+up", "history(-1)", "Older"),
        Binding("ctrl+down", "history(1)", "Newer"),
        Binding("ctrl+r", "app.runs", "Past runs"),
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
    ]

    def __init__(self, history: TaskHistory) -> None:
        super().__init__()
        self.history = history

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="task-body"):
            yield Label("What should be done? First line is the title.", classes="prompt")
            yield TextArea(id="task-input", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="task-hint", classes="hint")
        yield CostBar(id="cost")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#task-input", TextArea).focus()

    def action_submit(self) -> None:
        area = self.query_one("#task-input", TextArea)
        if not area.text.strip():
            self.query_one("#task-hint", Static).update("Write a task first.")
            return
        self.history.add(area.text)
        self.post_message(TaskSubmitted(task_from_text(area.text)))

    def action_history(self, step: int) -> None:
        text = self.history.previous() if step < 0 else self.history.next()
        if text is not None:
            area = self.query_one("#task-input", TextArea)
            area.load_text(text)
            area.move_cursor(area.document.end)
