"""The subtask editor: every field labelled, in a form that scrolls, with its own footer.

Lists (files, dependencies, checks) are one item per line, so nothing in a check is mistaken for
a separator (a `;` inside `python -c '...; ...'` stays where it is). Saving an unchanged form
gives back the same subtask, field for field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static, TextArea

from orchestrate.engine.plan import Subtask

CONTINUATION = "  "
"""Lines that start with white space continue the item above (a multi-line check command)."""

_SLUG = re.compile(r"[^a-z0-9]+")
_KINDS = ("code", "test", "format")


def lines_text(items: Sequence[str]) -> str:
    """One item per line; an item's own line breaks go on lines indented by `CONTINUATION`."""
    return "\n".join(item.replace("\n", "\n" + CONTINUATION) for item in items)


def items_from(text: str) -> list[str]:
    """The items of `lines_text` back: blank lines are dropped, indented lines continue."""
    items: list[str] = []
    for line in text.split("\n"):
        if items and line[:1].isspace():
            items[-1] += "\n" + line.removeprefix(CONTINUATION)
        elif line.strip():
            # Only the item's own ends are trimmed: a space before its next line is its own.
            items.append(line.lstrip())
    return [item.rstrip() for item in items]


def new_subtask_id(title: str, taken: set[str]) -> str:
    """A readable id for a new subtask that no other subtask has."""
    base = _SLUG.sub("-", title.lower()).strip("-")[:30].strip("-") or "step"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


_LISTS = {
    "edit": ("Files it may edit (one per line)", "edit_files"),
    "read": ("Files to read for context (one per line)", "read_files"),
    "deps": ("Runs after (subtask ids, one per line)", "depends_on"),
    "checks": (
        "Checks: one shell command per line (indent a line to continue the command above)",
        "checks",
    ),
}


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
        with VerticalScroll(classes="dialog form"):
            yield Label(f"Edit subtask {s.id}" if s else "New subtask", classes="dialog-title")
            yield Label("Title", classes="field")
            yield Input(s.title if s else "", placeholder="one line, imperative", id="title")
            yield Label("Kind", classes="field")
            yield Select(
                [(kind, kind) for kind in _KINDS],
                value=s.kind if s else "code",
                allow_blank=False,
                id="kind",
            )
            for widget_id, (label, field) in _LISTS.items():
                yield Label(label, classes="field")
                items: list[str] = getattr(s, field) if s else []
                yield TextArea(lines_text(items), id=widget_id, classes="list", soft_wrap=True)
            yield Label("Spec: what the worker is to do", classes="field")
            yield TextArea(s.spec if s else "", id="spec", soft_wrap=True)
            yield Static("", id="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def _area(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", TextArea).text

    def action_save(self) -> None:
        value = self.query_one("#title", Input).value
        title = value if value.strip() else ""
        data: dict[str, object] = {
            "id": self.subtask.id if self.subtask else new_subtask_id(title, self.taken),
            "title": title,
            "kind": self.query_one("#kind", Select).value,
            "spec": self._area("spec"),
        }
        for widget_id, (_, field) in _LISTS.items():
            data[field] = items_from(self._area(widget_id))
        try:
            subtask = Subtask.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            error_line = self.query_one("#form-error", Static)
            error_line.update(problems)
            error_line.scroll_visible()
            return
        self.dismiss(subtask)

    def action_cancel(self) -> None:
        self.dismiss(None)
