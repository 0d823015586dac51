"""A subtask handed back to the planner is shown on the run screen: the decision, its reason."""

from __future__ import annotations

import json

from textual.widgets import RichLog

from orchestrate.tui.screens.run import RunScreen
from orchestrate.tui.widgets.subtask_list import SubtaskList

from .tui_support import APPROVE, CALC_SUB_BAD, PLAN, MakeApp, Models, run_task, whole

GIVE_UP = {"decision": "give_up", "reason": "sub needs a decision on argument order."}


async def test_a_replan_is_shown_in_the_activity_and_on_its_subtask(
    models: Models, make_app: MakeApp
) -> None:
    models.add("planner", [PLAN, json.dumps(GIVE_UP)])
    models.add("coder", [whole("calc.py", CALC_SUB_BAD)] * 2)
    models.add("formatter", [])
    models.add("tester", [])
    models.add("reviewer", [APPROVE])
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await run_task(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        # Joined as one text: the log wraps long lines at the pane's width.
        activity = " ".join(str(line.text).strip() for line in screen.query_one(RichLog).lines)
        said = f"re-planned by scripted:planner: gave up ({GIVE_UP['reason']})"
        assert f"↻ sub: {said}" in activity
        table = screen.query_one(SubtaskList)
        assert said in table.details["sub"]
        assert table.statuses["sub"] == "failed"
