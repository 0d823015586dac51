"""A subtask whose checked commit landed but whose result was never saved (the process killed in
between) keeps its passed checks on resume: the commit carries them, so a task without
task-level checks is still approved on its subtasks' checks, not reported unchecked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC_SUB,
    CHAINS,
    PY,
    make_engine,
    models,
    repo,
    step,
    whole,
)

from orchestrate.engine.checks import CheckResult
from orchestrate.engine.commit_checks import TRAILER, checks_of_commit, checks_trailer
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.workspace import CommitInfo, Workspace
from orchestrate.events import Event, SubtaskFinished
from orchestrate.models.scripted import ScriptedModel

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest

CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
PLAN = {"summary": "Add sub.", "subtasks": [step("sub", "code", ["calc.py"], [CHECK])]}
TASK = TaskSpec(title="Add sub", instructions="Add sub(a, b).", files=["calc.py"], line=3)
"""No `check:` lines: only the subtask's own check says the work was verified."""


async def test_a_resumed_run_knows_the_checks_its_committed_subtask_passed(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(PLAN)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)
    state_file = RepoFiles.of(repo).run("run-1").state
    kept: list[bytes] = []

    def snapshot(event: Event) -> None:
        # The moment the subtask finished (committed, its result not yet saved): what a process
        # killed right then leaves on disk.
        if isinstance(event, SubtaskFinished) and event.ok and not kept:
            kept.append(state_file.read_bytes())

    engine.events.subscribe(snapshot)
    first = await engine.run(TASK, "run-1")
    assert first.status == "approved", first.detail
    [commit] = Workspace.open(repo, "run-1").commits()
    assert json.loads(commit.trailers[TRAILER]) == [CHECK]

    # The process died between the commit and the state write: put that state back.
    state_file.write_bytes(kept[0])
    models["planner"] = ScriptedModel([], name="planner")
    models["coder"] = ScriptedModel([], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    again, _ = make_engine(repo, models, CHAINS)

    result = await again.resume("run-1")

    assert result.status == "approved", result.detail
    assert models["coder"].requests == []
    [sub] = result.subtasks
    assert sub.commit == commit.sha
    assert [(check.command, check.ok) for check in sub.checks] == [(CHECK, True)]
    assert "passed before the run was interrupted" in sub.checks[0].output


def commit_saying(trailer: str | None) -> CommitInfo:
    trailers = {"Orchestrate-Run": "run-1", "Orchestrate-Subtask": "sub"}
    if trailer is not None:
        trailers[TRAILER] = trailer
    return CommitInfo(sha="a" * 40, title="Step sub", trailers=trailers)


def test_only_the_subtasks_own_checks_that_ran_are_vouched_for() -> None:
    long_check = "python -m pytest  -q\n    tests/test_sub.py"  # a continued plan.md check
    ran = [
        CheckResult(command=command, ok=True, exit_code=0, output="", duration_s=0.1)
        for command in (CHECK, long_check)
    ]
    [value] = checks_trailer(ran).values()
    folded = " ".join(value.split())  # as the commit message keeps a trailer: one line
    commit = commit_saying(folded)
    # A check never approved never ran: the commit does not vouch for it.
    found = checks_of_commit(commit, [CHECK, "echo never approved", long_check])
    assert [check.command for check in found] == [CHECK, long_check]
    assert all(check.ok for check in found)
    assert checks_trailer([]) == {}


def test_a_missing_or_garbled_trailer_vouches_for_nothing() -> None:
    for trailer in (None, '["python -m pytest', '{"python": 1}', "[1, 2]"):
        assert checks_of_commit(commit_saying(trailer), [CHECK, "1"]) == []


def test_the_readme_names_the_trailer_users_will_see_in_their_commits() -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert f"`{TRAILER}`" in readme.read_text(encoding="utf-8")
