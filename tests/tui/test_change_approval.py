"""In the TUI an edit adding a workflow, a git hook, a CI file or one of our keys is committed
only after the user said yes in a dialog that shows each change whole (as written, no markup)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from orchestrate.tui.screens.approval import APPROVED_BY
from orchestrate.tui.screens.change_approval import confirm_changes_in_app
from orchestrate.tui.screens.dialogs import ConfirmDialog

from .tui_support import MakeApp, until

CHANGES = [
    ".github/workflows/ci.yml: changes a GitHub Actions workflow",
    "calc.py: writes the value of [bold]GITHUB_TOKEN[/bold]",
]


@pytest.mark.parametrize(("key", "answer"), [("y", APPROVED_BY), ("n", None)])
async def test_the_app_asks_before_such_a_change_is_committed(
    make_app: MakeApp, key: str, answer: str | None
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        # The engine's hook is the app's dialog (the batch CLI's is --allow-sensitive-changes).
        asked = asyncio.ensure_future(app.session.approve_changes("tui-1", CHANGES))
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        shown = str(app.screen.query_one("#confirm-detail", Static).render())
        assert all(change in shown for change in CHANGES)  # whole, markup left as written
        await pilot.press(key)
        assert await asked == answer


async def test_the_hook_is_the_app_dialog_not_a_refusal(make_app: MakeApp) -> None:
    app = make_app()
    assert getattr(app.session.approve_changes, "func", None) is confirm_changes_in_app
