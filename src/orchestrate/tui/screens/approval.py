"""Before a command a model wrote runs: every such command shown whole, and the user's yes or no.

The engine asks (its `CommandApproval` hook) before the plan's subtasks run and again before a
reviewer's follow-ups run; this dialog is the TUI's answer. Commands are shown as plain text
(never markup) and wrapped, never cut, so what is approved is exactly what runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from orchestrate.engine.commands import CommandRecord, Decision

APPROVED_BY = "you, in the TUI"
REFUSED = "you said no in the TUI"


class CommandChoice(Static, can_focus=True):
    """One proposed command: who wrote it, where it is used, the command whole; space toggles."""

    DEFAULT_CSS = """
    CommandChoice {
        margin-top: 1;
    }
    CommandChoice:focus {
        background: $boost;
    }
    """

    def __init__(self, record: CommandRecord, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="command-choice")
        self.record = record
        self.chosen = True

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        mark = "[x]" if self.chosen else "[ ]"
        text = Text(f"{mark} {self.record.proposed_by} · {self.record.where}\n", style="bold")
        # Plain text: a command is never read as markup, and wraps at the dialog's width.
        text.append(self.record.command)
        self.update(text)

    def toggle(self) -> None:
        """Run it, or not."""
        self.chosen = not self.chosen
        self._show()


class CommandApproval(ModalScreen[list[Decision]]):
    """Dismisses with one decision per proposed command, in order."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "Run it / not"),
        Binding("y,enter", "approve", "Run the ticked ones"),
        Binding("n,escape", "refuse", "Run none"),
    ]

    def __init__(self, proposals: Sequence[CommandRecord]) -> None:
        super().__init__()
        self.proposals = list(proposals)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="approval"):
            yield Label(
                f"A model wrote {len(self.proposals)} command(s) to run as checks. Run them?",
                classes="dialog-title",
            )
            yield Label("space: tick or untick · y/enter: run the ticked ones · n/esc: run none")
            for index, record in enumerate(self.proposals):
                yield CommandChoice(record, id=f"command-{index}")

    def on_mount(self) -> None:
        self.query(CommandChoice).first().focus()

    def choices(self) -> list[CommandChoice]:
        """The commands, in order."""
        return list(self.query(CommandChoice))

    def action_tick(self) -> None:
        if isinstance(self.focused, CommandChoice):
            self.focused.toggle()

    def action_approve(self) -> None:
        self.dismiss(
            [
                Decision(approved_by=APPROVED_BY if c.chosen else None, refusal=_refusal(c))
                for c in self.choices()
            ]
        )

    def action_refuse(self) -> None:
        self.dismiss([Decision(approved_by=None, refusal=REFUSED)] * len(self.proposals))


def _refusal(choice: CommandChoice) -> str:
    return "" if choice.chosen else REFUSED


async def ask_in_app(
    app: App[Any], run_id: str, proposals: Sequence[CommandRecord]
) -> list[Decision]:
    """The engine's approval hook for the TUI: show the dialog and wait for the answer."""
    answer: asyncio.Future[list[Decision]] = asyncio.get_running_loop().create_future()

    def settle(decisions: list[Decision] | None) -> None:
        if not answer.done():
            answer.set_result(decisions or [])

    screen = CommandApproval(proposals)
    await app.push_screen(screen, settle)
    try:
        return await answer
    except asyncio.CancelledError:
        # The run was cancelled while asking: the question goes with it.
        if screen.is_attached and screen in app.screen_stack:
            screen.dismiss([])
        raise
