"""Past runs lists runs there is something to open or resume from, under their task's title."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from orchestrate.ledger.store import AttemptRecord
from orchestrate.tui.past_runs import title_from_id
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.runs import RunsScreen
from orchestrate.tui.screens.task import TaskScreen

from .tui_support import PLAN, MakeApp, Models, happy_models, plan_task, run_ends, until


def test_a_title_is_read_back_from_a_run_id() -> None:
    assert title_from_id("20261201-101500-1-add-subtraction") == "add subtraction"
    assert title_from_id("dry-20261201-101500-2-fix-it") == "fix it"


async def test_abandoned_plans_and_doctor_probes_are_not_listed(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    models.add("planner", [PLAN, PLAN])
    app = make_app()
    probe = AttemptRecord(
        run_id="doctor-1764600000",
        agent="coder",
        provider="scripted",
        model="scripted:coder",
        tier="local",
    )
    app.session.ledger.record(probe)
    async with app.run_test(size=(120, 36)) as pilot:
        # tui-1: planned, then left without running it.
        await plan_task(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen))
        # tui-2: planned and run.
        await plan_task(pilot)
        assert isinstance(app.screen, PlanScreen) and app.screen.run_id == "tui-2"
        await pilot.press("ctrl+s")
        await run_ends(pilot)
        assert {run.run_id for run in app.session.ledger.runs()} == {
            "doctor-1764600000",
            "tui-1",
            "tui-2",
        }
        await pilot.press("ctrl+r")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        table = runs.query_one("#runs", DataTable)
        rows = [table.get_row_at(index) for index in range(table.row_count)]
    assert [(row[0], row[1], row[-1]) for row in rows] == [("Add subtraction", "approved", "tui-2")]
