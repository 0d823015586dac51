"""The planner's request opens with what every task of a run shares (the repo map and the rules
of a plan), marked as a stable prefix, so a provider can serve it from its cache: only the
task itself differs from one planner call to the next."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine.test_engine_scripted import CHAINS, PLAN, TASK, make_engine, models, repo

from orchestrate.models.scripted import ScriptedModel

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest


async def test_every_planner_call_of_a_run_opens_with_the_same_cached_prefix(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(PLAN)] * 2, name="planner")
    engine, _ = make_engine(repo, models, CHAINS)
    other = TASK.model_copy(
        update={"title": "Document calc", "instructions": "Say what calc does.", "files": []}
    )

    await engine.plan(TASK.model_copy(update={"files": ["calc.py"]}))
    await engine.plan(other)

    first, second = models["planner"].requests
    assert first.system == second.system
    shared, task = first.messages[0], first.messages[-1]
    assert shared == second.messages[0] and shared.cache
    assert "calc.py" in shared.content and "## How to answer" in shared.content
    # The task and the files it names come after the prefix, never inside it.
    assert TASK.title not in shared.content and "return a + b" not in shared.content
    assert TASK.title in task.content and "return a + b" in task.content
    assert second.messages[-1].content.startswith("# Task: Document calc")
