"""Small modal dialogs, each with its own footer: a remark to send, and a yes/no question."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static, TextArea


class RemarkDialog(ModalScreen[str | None]):
    """Asks for a remark (several lines if need be, maybe pre-filled); dismisses with it, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, prompt: str, text: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog remark"):
            yield Label(self.prompt, classes="dialog-title")
            yield TextArea(self.text, id="remark", soft_wrap=True)
            yield Static("", id="form-error")
        yield Footer()

    def on_mount(self) -> None:
        area = self.query_one("#remark", TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_send(self) -> None:
        remark = self.query_one("#remark", TextArea).text.strip()
        if not remark:
            self.query_one("#form-error", Static).update("Write a remark first, or escape.")
            return
        self.dismiss(remark)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A question with what happens either way; `y` dismisses with True, `n`/escape with False."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, detail: str | Text = "") -> None:
        """`detail` as a `Text` is shown as written (no markup), e.g. what a model wrote."""
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog confirm"):
            yield Label(self.question, classes="dialog-title")
            if self.detail:
                yield Static(self.detail, id="confirm-detail")
            yield Label("y: yes · n: no", classes="field")
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
