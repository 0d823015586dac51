"""Below 100 columns the review's panes stack, so the diff keeps the width of the terminal."""

from __future__ import annotations

import pytest

from orchestrate.tui.screens.review import ReviewScreen

from .tui_support import MakeApp, Models, footer, happy_models, run_task, until


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_the_review_stacks_below_100_columns(
    models: Models, make_app: MakeApp, size: tuple[int, int]
) -> None:
    happy_models(models)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await run_task(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.pause()
        files, diff, verdict = (
            app.screen.query_one(f"#{i}").region for i in ("files", "diff", "verdict-pane")
        )
    if size[0] < 100:
        assert files.bottom <= diff.y and diff.bottom <= verdict.y
        assert diff.width == size[0] and diff.height >= 6
    else:
        assert files.right <= diff.x and diff.right <= verdict.x
        assert diff.width >= 40


async def test_every_dialog_has_its_own_footer(models: Models, make_app: MakeApp) -> None:
    happy_models(models)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert footer(app.screen) == {"escape": "Close help"}
        await pilot.press("escape")
        await run_task(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.press("s")
        await pilot.pause()
        assert footer(app.screen) == {"ctrl+s": "Send", "escape": "Cancel"}
