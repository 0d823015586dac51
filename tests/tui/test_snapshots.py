"""Snapshots of every screen at 80x24 (stacked panes, scrolling forms) and 200x50, over a run
with fixed ids and token counts.

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.review import ReviewScreen

from .tui_support import (
    APPROVE,
    CALC_SUB,
    README,
    MakeApp,
    Models,
    run_ends,
    subtask,
    type_task,
    until,
    whole,
)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((200, 50), id="200x50")]
Compare = Callable[..., bool]
# Checks without an interpreter path, so the plan tree reads the same on every machine.
PLAN = json.dumps(
    {
        "summary": "Add sub, then document it.",
        "subtasks": [
            subtask("sub", "code", ["calc.py"], ["grep -q 'def sub' calc.py"], []),
            subtask("readme", "format", ["README.md"], ["grep -q Usage README.md"], ["sub"]),
        ],
    }
)


@pytest.fixture
def app_ready(models: Models, make_app: MakeApp) -> MakeApp:
    models.add("planner", [PLAN])
    models.add("coder", [whole("calc.py", CALC_SUB)])
    models.add("formatter", [whole("README.md", README)])
    models.add("tester", [])
    models.add("reviewer", [APPROVE])
    return make_app


async def _settle(pilot: Pilot[Any]) -> None:
    pilot.app.clear_notifications()
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


async def _to_plan(pilot: Pilot[Any]) -> None:
    await type_task(pilot)
    await until(pilot, lambda: isinstance(pilot.app.screen, PlanScreen) and pilot.app.screen.plan)


async def _to_run(pilot: Pilot[Any]) -> None:
    await _to_plan(pilot)
    await pilot.press("ctrl+s")
    await run_ends(pilot)


async def _to_review(pilot: Pilot[Any]) -> None:
    await _to_run(pilot)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
    await pilot.press("down")


def _then_settle(step: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await step(pilot)
        await _settle(pilot)

    return run_before


async def _typed(pilot: Pilot[Any]) -> None:
    pilot.app.screen.query_one("#task-input", TextArea).insert(
        "Add subtraction\ncalc needs sub(a, b) and usage docs."
    )


async def _to_edit(pilot: Pilot[Any]) -> None:
    await _to_plan(pilot)
    await pilot.press("e")


async def _to_send_back(pilot: Pilot[Any]) -> None:
    await _to_review(pilot)
    await pilot.press("s")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "step",
    [
        pytest.param(_typed, id="task"),
        pytest.param(_to_plan, id="plan"),
        pytest.param(_to_edit, id="edit"),
        pytest.param(_to_run, id="run"),
        pytest.param(_to_review, id="review"),
        pytest.param(_to_send_back, id="send-back"),
    ],
)
def test_screens(
    snap_compare: Compare,
    app_ready: MakeApp,
    step: Callable[[Pilot[Any]], Awaitable[None]],
    size: tuple[int, int],
) -> None:
    assert snap_compare(app_ready(), terminal_size=size, run_before=_then_settle(step))


def test_help_screen(snap_compare: Compare, make_app: MakeApp, project: Path) -> None:
    assert snap_compare(make_app(), press=["f1"], terminal_size=(80, 24))
