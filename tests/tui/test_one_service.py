"""The TUI builds its runs through the same `Session` as `orchestrate run`: per-run caps included."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from orchestrate.config.schema import BudgetConfig
from orchestrate.tui.app import OrchestrateApp
from orchestrate.tui.history import TaskHistory
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.run import RunScreen

from .tui_support import CHAINS, PLAN, Models, happy_models, make_session, plan_task, run_task

CAP_USD = 0.1
"""Fits one planner call's worst case ($0.06 for 4,096 output tokens) but not after one was paid."""


async def test_each_run_in_the_tui_gets_a_new_per_run_budget(project: Path, models: Models) -> None:
    happy_models(models)
    # Each plan costs $0.045: a second one fits a fresh per-run cap, not what is left of the first.
    planner = models.add("planner", [PLAN, PLAN], output_tokens=3000)
    session = make_session(
        project, CHAINS | {"planner": ["scloud:planner"]}, BudgetConfig(per_run_usd=CAP_USD)
    )
    numbers = itertools.count(1)
    app = OrchestrateApp(
        session, run_ids=lambda _: f"tui-{next(numbers)}", history=TaskHistory(None)
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await run_task(pilot)
        assert isinstance(app.screen, RunScreen)
        await pilot.press("n")
        await plan_task(pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen) and screen.run_id == "tui-2"
    assert len(planner.requests) == 2
    cost = session.ledger.attempts("tui-2")[0].cost_usd
    assert cost == pytest.approx(3000 * 15e-6 + 100 * 3e-6)
    assert session.budget.hit is None
