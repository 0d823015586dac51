"""A run is approved only when the reviewer approves, the task's checks pass AND every subtask
was done: the reviewer's word does not cover work that never landed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC_SUB,
    CHAINS,
    GIVE_UP,
    PY,
    TASK,
    make_engine,
    models,
    repo,
    step,
    whole,
)

from orchestrate.events import RunFinished
from orchestrate.models.scripted import ScriptedModel

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest

SUB_CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"


async def test_an_approved_review_with_a_failed_subtask_is_not_an_approved_run(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    plan = {
        "summary": "sub, and its docs",
        "subtasks": [
            step("sub", "code", ["calc.py"], [SUB_CHECK]),
            step("readme", "format", ["README.md"], ["grep -q Usage README.md"]),
        ],
    }
    models["planner"] = ScriptedModel([json.dumps(plan), json.dumps(GIVE_UP)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["formatter"] = ScriptedModel([whole("README.md", "# calc\n")] * 3, name="formatter")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS)

    result = await engine.run(TASK.model_copy(update={"checks": [SUB_CHECK]}), "run-1")

    assert {r.id: r.status for r in result.subtasks} == {"sub": "done", "readme": "failed"}
    assert result.review is not None and result.review.verdict == "approve"
    assert all(check.ok for check in result.task_checks)
    assert result.status == "changes_requested"
    assert result.detail.startswith("1/2 subtasks done;")
    assert isinstance(events[-1], RunFinished) and not events[-1].ok
