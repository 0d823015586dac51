"""A role that falls below what was set up for it is said while it happens: a banner on the
screen, a notification, a line in the activity log."""

from __future__ import annotations

from textual.widgets import RichLog

from orchestrate.models.scripted import ScriptedFailure
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.run import RunScreen
from orchestrate.tui.widgets.degraded_banner import DegradedBanner

from .tui_support import (
    CALC_SUB,
    CHAINS,
    PLAN,
    MakeApp,
    Models,
    happy_models,
    plan_task,
    run_task,
    whole,
)

DOWN = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "connection refused"))
PAID = "a paid cloud model, where scripted:down (local, free) was the first choice"


async def test_a_worker_falling_to_a_paid_model_is_bannered(
    models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    models.add("down", [DOWN])
    models.add("coder", [whole("calc.py", CALC_SUB)])
    app = make_app(CHAINS | {"coder": ["scripted:down", "scloud:coder"]})
    async with app.run_test(size=(80, 24)) as pilot:
        await run_task(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        banner = screen.query_one(DegradedBanner)
        assert banner.display
        assert banner.lines == [f"⚠ degraded: coder now on scloud:coder: {PAID}"]
        said = [str(note.message) for note in app._notifications]
        assert f"coder now on scloud:coder: {PAID}" in said
        activity = [line.text for line in screen.query_one("#activity", RichLog).lines]
        assert any(line.startswith("⚠ degraded: coder now on scloud:coder") for line in activity)


async def test_nothing_is_bannered_when_every_agent_gets_its_first_choice(
    models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await run_task(pilot)
        assert not app.screen.query_one(DegradedBanner).display


async def test_the_planner_falling_to_a_paid_model_is_bannered_while_it_plans(
    models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    models.add("down", [DOWN])
    models.add("planner", [PLAN])
    app = make_app(CHAINS | {"planner": ["scripted:down", "scloud:planner"]})
    async with app.run_test(size=(80, 24)) as pilot:
        await plan_task(pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        banner = screen.query_one(DegradedBanner)
        assert banner.display
        assert banner.lines == [f"⚠ degraded: planner now on scloud:planner: {PAID}"]
