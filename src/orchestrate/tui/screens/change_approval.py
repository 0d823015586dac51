"""Before an edit that adds a workflow, a git hook, a CI file or one of our keys is committed:
the changes shown (as plain text, wrapped) and the user's yes or no. The engine asks through its
`ChangeApproval` hook; this is the TUI's answer (the batch CLI's is `--allow-sensitive-changes`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import App

from orchestrate.tui.screens.approval import APPROVED_BY
from orchestrate.tui.screens.dialogs import ConfirmDialog

QUESTION = "Commit these changes a model made?"
WHY = (
    "They run commands later (a CI workflow, a git hook, a CI file) or write one of your keys. "
    "No: the subtask fails and nothing of it is committed."
)


async def confirm_changes_in_app(app: App[Any], run_id: str, changes: Sequence[str]) -> str | None:
    """The engine's change-approval hook for the TUI: who said yes, or None."""
    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def settle(yes: bool | None) -> None:
        if not answer.done():
            answer.set_result(bool(yes))

    listed = Text("\n".join(f"- {change}" for change in changes) + f"\n\n{WHY}")
    screen = ConfirmDialog(QUESTION, listed)
    await app.push_screen(screen, settle)
    try:
        return APPROVED_BY if await answer else None
    except asyncio.CancelledError:
        if screen.is_attached and screen in app.screen_stack:
            screen.dismiss(False)
        raise
