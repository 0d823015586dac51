"""Small modal dialogs: a one-line remark, and the subtask editor."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea

from orchestrate.engine.plan import Subtask

_SLUG = re.compile(r"[^a-z0-9]+")


class RemarkDialog(ModalScreen[str | None]):
    """Asks for one line of remark; dismisses with it, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.prompt)
            yield Input(placeholder="remark, then Enter", id="remark")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def new_subtask_id(title: str, taken: set[str]) -> str:
    """A readable id for a new subtask that no other subtask has."""
    base = _SLUG.sub("-", title.lower()).strip("-")[:30].strip("-") or "step"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


class SubtaskForm(ModalScreen[Subtask | None]):
    """Edits a subtask (or makes a new one); dismisses with the valid subtask, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, subtask: Subtask | None, taken: set[str]) -> None:
        super().__init__()
        self.subtask = subtask
        self.taken = taken

    def compose(self) -> ComposeResult:
        s = self.subtask
        with Vertical(classes="dialog form"):
            yield Label("Edit subtask" if s else "New subtask", classes="dialog-title")
            yield Input(s.title if s else "", placeholder="title", id="title")
            yield Select(
                [(kind, kind) for kind in ("code", "test", "format")],
                value=s.kind if s else "code",
                allow_blank=False,
                id="kind",
            )
            yield Input(", ".join(s.edit_files) if s else "", placeholder="edit files", id="edit")
            yield Input(", ".join(s.read_files) if s else "", placeholder="read files", id="read")
            yield Input(", ".join(s.depends_on) if s else "", placeholder="after (ids)", id="deps")
            yield Input(
                "; ".join(s.checks) if s else "", placeholder="checks (; between)", id="checks"
            )
            yield TextArea(s.spec if s else "", id="spec")
            yield Static("", id="form-error")

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def action_save(self) -> None:
        title = self._value("title").strip()
        data = {
            "id": self.subtask.id if self.subtask else new_subtask_id(title, self.taken),
            "title": title,
            "kind": self.query_one("#kind", Select).value,
            "spec": self.query_one("#spec", TextArea).text,
            "edit_files": _split(self._value("edit")),
            "read_files": _split(self._value("read")),
            "depends_on": _split(self._value("deps")),
            "checks": [c.strip() for c in self._value("checks").split(";") if c.strip()],
        }
        try:
            subtask = Subtask.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            self.query_one("#form-error", Static).update(problems)
            return
        self.dismiss(subtask)

    def action_cancel(self) -> None:
        self.dismiss(None)
