"""The run screen: panes for the run's own agents, the model column as it happens, logs that wrap."""

from __future__ import annotations

import json

from textual.widgets import RichLog, TabbedContent

from orchestrate.tui.screens.run import RunScreen
from orchestrate.tui.widgets.log_pane import AgentLog
from orchestrate.tui.widgets.subtask_list import SubtaskList

from .tui_support import (
    APPROVE,
    CALC_SUB,
    CHAINS,
    WAIT_S,
    MakeApp,
    Models,
    approve_commands,
    happy_models,
    plan_task,
    run_ends,
    subtask,
    until,
    whole,
)


async def test_log_tabs_are_the_runs_agents_only(models: Models, make_app: MakeApp) -> None:
    happy_models(models)
    models.add("triage", [])
    # A PR-review agent in the config has no business on a run's screen.
    app = make_app(CHAINS | {"triage": ["scripted:triage"]})
    async with app.run_test(size=(120, 36)) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await run_ends(pilot)
        tabs = app.screen.query_one(TabbedContent)
        panes = [pane.id for pane in tabs.query("TabPane")]
    assert panes == ["tab-activity", "tab-planner", "tab-coder", "tab-formatter", "tab-reviewer"]


async def test_the_model_column_shows_the_model_while_the_subtask_runs(
    models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    # The coder never answers within the test: the column must be filled before any answer.
    models.add("coder", [whole("calc.py", CALC_SUB)], delay=WAIT_S * 2)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await approve_commands(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        table = screen.query_one(SubtaskList)
        await until(pilot, lambda: table.models.get("sub") == "scripted:coder")
        assert table.statuses["sub"] == "running"
        await pilot.press("c")
        await until(pilot, lambda: not screen.running)


async def test_activity_lines_wrap_inside_their_pane(models: Models, make_app: MakeApp) -> None:
    happy_models(models)
    app = make_app()
    # Side by side at 100 columns: the activity pane is about 48 wide.
    async with app.run_test(size=(100, 30)) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await run_ends(pilot)
        log = app.screen.query_one("#activity", RichLog)
        width = log.scrollable_content_region.width
        assert width < 78
        assert log.lines and max(line.cell_length for line in log.lines) <= width
        text = "".join("".join(line.text.split()) for line in log.lines)
        assert "✓formatter:scripted:formatteranswered(100→20tokens)" in text


async def test_a_follow_up_for_another_worker_gets_its_own_pane(
    models: Models, make_app: MakeApp
) -> None:
    follow_up = subtask("tests", "test", ["test_calc.py"], [], [])
    review = {
        "verdict": "request_changes",
        "summary": "Needs a test.",
        "comments": [],
        "follow_ups": [follow_up],
    }
    happy_models(models)
    models.add("reviewer", [json.dumps(review), APPROVE])
    models.add("tester", [whole("test_calc.py", "from calc import sub\n")])
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await run_ends(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.agents == ["planner", "coder", "formatter", "reviewer", "tester"]
        assert "from calc import sub" in screen.query_one("#log-tester", AgentLog).text
