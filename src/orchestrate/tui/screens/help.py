"""The help screen: what orchestrate does, and every key binding by screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

INTRO = """\
# orchestrate

Write a task; a cloud **planner** splits it into subtasks; local **workers** write the code on
a private branch, each subtask checked by its commands; a **reviewer** reads the diff. You
approve the plan before anything runs and accept the branch at the end.

Press **ctrl+p** for the command palette, **f1** for this help, **ctrl+q** to quit.
"""


def bindings_markdown(screens: dict[str, list[BindingType]]) -> str:
    """A table of keys per screen."""
    parts = [INTRO]
    for name, bindings in screens.items():
        rows = [b for b in bindings if isinstance(b, Binding) and b.description]
        if rows:
            parts.append(f"## {name}\n\n| key | action |\n|---|---|")
            parts.extend(f"| `{b.key}` | {b.description} |" for b in rows)
            parts.append("")
    return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """Shown over any screen; escape or f1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "close", "Close help"),
    ]

    def __init__(self, screens: dict[str, list[BindingType]]) -> None:
        super().__init__()
        self.text = bindings_markdown(screens)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown(self.text)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss()
