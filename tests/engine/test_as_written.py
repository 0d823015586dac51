"""A task that names its files and checks runs as written: no planner is paid to restate it,
unless the user asks for planning."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC_SUB,
    CHAINS,
    PLAN,
    PY,
    TASK,
    make_engine,
    models,
    repo,
    whole,
)

from orchestrate.events import PlanReady, SubtaskStatus
from orchestrate.models.scripted import ScriptedModel

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest

SUB_CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
NAMED = TASK.model_copy(update={"files": ["calc.py"], "checks": [SUB_CHECK]})


async def test_a_task_naming_its_files_and_checks_runs_without_a_planner_call(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([], name="planner")  # any call would fail the test
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, always_plan=False)

    result = await engine.run(NAMED, "as-written")

    assert result.status == "approved", result.detail
    assert models["planner"].requests == []
    assert result.plan is not None
    assert result.plan.summary == (
        "The task as written (it names its files and checks; no planner was asked)."
    )
    [only] = result.plan.subtasks
    assert (only.spec, only.edit_files, only.checks) == (
        NAMED.instructions,
        ["calc.py"],
        [SUB_CHECK],
    )
    said = [e.detail for e in events if isinstance(e, SubtaskStatus) and e.subtask_id == "task"]
    assert any("no planner asked" in detail and "--always-plan" in detail for detail in said)
    assert [e.subtask_ids for e in events if isinstance(e, PlanReady)] == [["task"]]
    # The reviewer is told why there is no plan to speak of.
    assert "no planner was asked" in models["reviewer"].requests[0].messages[-1].content


async def test_a_task_without_checks_is_still_planned(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    only_sub = {"summary": "Add sub.", "subtasks": [PLAN["subtasks"][0]]}
    models["planner"] = ScriptedModel([json.dumps(only_sub)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS, always_plan=False)

    result = await engine.run(NAMED.model_copy(update={"checks": []}), "planned")

    assert len(models["planner"].requests) == 1
    assert result.plan is not None and result.plan.summary == "Add sub."


async def test_asking_for_planning_plans_a_task_that_names_everything(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    only_sub = {"summary": "Add sub.", "subtasks": [PLAN["subtasks"][0]]}
    models["planner"] = ScriptedModel([json.dumps(only_sub)] * 2, name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS, always_plan=True)

    result = await engine.run(NAMED, "always")
    # A dry run (or the TUI's plan step) is the user asking for a plan, whatever the option.
    quiet, _ = make_engine(repo, models, CHAINS, always_plan=False)
    dry = await quiet.plan(NAMED)

    assert len(models["planner"].requests) == 2
    assert result.plan is not None and result.plan.summary == "Add sub."
    assert dry.summary == "Add sub."
