"""Subtasks checked side by side in lanes, joined onto the run's branch in plan order."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC_SUB,
    CHAINS,
    PY,
    README,
    TASK,
    make_engine,
    models,
    repo,
    step,
    whole,
)

from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.workspace import Workspace
from orchestrate.events import Event, SubtaskStatus
from orchestrate.models.base import ModelRequest, ModelResponse, TokenCallback
from orchestrate.models.scripted import ScriptedModel

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest


def meet(mine: str, theirs: str) -> str:
    """A check that passes only if the other check runs while it does (the scratch HOME is
    shared by a run's checks, sandboxed or not): checks taken one at a time fail it."""
    return (
        f'touch "$HOME/{mine}"; i=0; while [ $i -lt 100 ]; do '
        f'[ -e "$HOME/{theirs}" ] && exit 0; sleep 0.05; i=$((i + 1)); done; exit 1'
    )


def worktrees(repo: Path) -> list[str]:
    listed = ["git", "worktree", "list", "--porcelain"]
    done = subprocess.run(listed, cwd=repo, capture_output=True, text=True, check=True)
    return [
        line.split(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("worktree")
    ]


async def test_independent_subtasks_are_checked_at_the_same_time(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    plan = {
        "summary": "two independent edits",
        "subtasks": [
            step("sub", "code", ["calc.py"], [meet("sub", "readme")]),
            step("readme", "format", ["README.md"], [meet("readme", "sub")]),
        ],
    }
    models["planner"] = ScriptedModel([json.dumps(plan)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["formatter"] = ScriptedModel([whole("README.md", README)], name="formatter")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS, max_fix_rounds=1)

    result = await engine.run(TASK.model_copy(update={"checks": []}), "lanes-1")

    assert {r.id: r.status for r in result.subtasks} == {"sub": "done", "readme": "done"}
    workspace = Workspace.open(repo, "lanes-1")
    assert [c.trailers["Orchestrate-Subtask"] for c in workspace.commits()] == ["sub", "readme"]
    assert (workspace.path / "calc.py").read_text() == CALC_SUB
    assert (workspace.path / "README.md").read_text() == README
    # The lanes are gone with the batch: only the user's checkout and the run's worktree remain.
    assert worktrees(repo) == [str(repo), str(workspace.path)]
    assert not RepoFiles.of(repo).run("lanes-1").lanes.exists()


class HeldModel(ScriptedModel):
    """Answers once `release` is set."""

    def __init__(self, steps: list[str], release: asyncio.Event, name: str) -> None:
        super().__init__(steps, name=name)
        self.release = release

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        await asyncio.wait_for(self.release.wait(), timeout=20)
        return await super().request(request, on_token)


async def test_work_that_passes_first_still_joins_in_plan_order(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    plan = {
        "summary": "two independent edits",
        "subtasks": [
            step(
                "sub", "code", ["calc.py"], [f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"]
            ),
            step("readme", "format", ["README.md"], ["grep -q Usage README.md"]),
        ],
    }
    readme_checked = asyncio.Event()
    models["planner"] = ScriptedModel([json.dumps(plan)], name="planner")
    # The first subtask's model answers only once the second one's check has run.
    models["coder"] = HeldModel([whole("calc.py", CALC_SUB)], readme_checked, "coder")
    models["formatter"] = ScriptedModel([whole("README.md", README)], name="formatter")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS)

    def watch(event: Event) -> None:
        if isinstance(event, SubtaskStatus) and (event.subtask_id, event.status) == (
            "readme",
            "checking",
        ):
            # Its check runs next, in its lane; let the first subtask's model answer shortly.
            asyncio.get_running_loop().call_later(0.3, readme_checked.set)

    engine.events.subscribe(watch)

    result = await engine.run(TASK.model_copy(update={"checks": []}), "lanes-2")

    assert {r.id: r.status for r in result.subtasks} == {"sub": "done", "readme": "done"}
    commits = Workspace.open(repo, "lanes-2").commits()
    assert [c.trailers["Orchestrate-Subtask"] for c in commits] == ["sub", "readme"]
    # The second subtask passed its check first, yet its commit came after the first's.
    checked = [
        e.subtask_id for e in events if isinstance(e, SubtaskStatus) and e.status == "checking"
    ]
    assert checked == ["readme", "sub"]
    assert [r.commit for r in sorted(result.subtasks, key=lambda r: r.id != "sub")] == [
        c.sha for c in commits
    ]
