"""Run state files and the replay store: what a resumed run reads back after a kill."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC_SUB,
    CHAINS,
    PLAN,
    README,
    make_engine,
    models,
    repo,
    whole,
)
from tests.engine.test_engine_scripted import TASK as SCRIPTED_TASK

from orchestrate.engine.plan import Plan, Subtask, plan_as_written
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.result import RunResult, SubtaskResult
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_state import (
    RunState,
    load_state,
    reset_worktree,
    save_state,
)
from orchestrate.engine.workspace import Workspace
from orchestrate.exceptions import RepoError
from orchestrate.models.base import Message, ModelRequest, ModelResponse, Usage
from orchestrate.models.scripted import ScriptedModel
from orchestrate.routing.replay import ReplayStore

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest

TASK = TaskSpec(title="Add sub", instructions="Add sub(a, b).", files=["calc.py"], line=3)


def request(text: str) -> ModelRequest:
    return ModelRequest(messages=(Message(role="user", content=text),))


def response(text: str) -> ModelResponse:
    return ModelResponse(
        text=text, usage=Usage(input_tokens=10, output_tokens=2), model="m", latency_s=0.1
    )


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def test_state_round_trips_with_its_plan(tmp_path: Path) -> None:
    plan = plan_as_written(TASK.title, TASK.instructions, TASK.files, ["true"])
    state = RunState(run_id="r1", task=TASK, plan=plan, batch=plan.subtasks, reviews=1)
    path = tmp_path / "runs" / "r1.json"

    save_state(path, state)

    assert load_state(path) == state
    assert [p.name for p in path.parent.iterdir()] == ["r1.json"]


def test_a_write_that_fails_leaves_the_previous_state_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r1.json"
    save_state(path, RunState(run_id="r1", task=TASK))

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("orchestrate.engine.run_state.os.replace", refuse)
    with pytest.raises(OSError, match="No space"):
        save_state(path, RunState(run_id="r1", task=TASK, reviews=2))

    assert load_state(path).reviews == 0
    assert [p.name for p in tmp_path.iterdir()] == ["r1.json"]  # no temp file left behind


def test_missing_or_broken_state_is_one_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(RepoError, match="no saved state for run 'gone'"):
        load_state(tmp_path / "gone.json")
    broken = tmp_path / "cut.json"
    broken.write_text('{"run_id": "cut", "ta')
    with pytest.raises(RepoError, match=r"unreadable.*start a new run"):
        load_state(broken)


def test_reset_cleans_only_the_run_worktree(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "calc.py").write_text("x = 1\n")
    git(user, "init", "-q", "-b", "main")
    git(user, "add", ".")
    git(user, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    (user / "calc.py").write_text("user edit\n")
    (user / "mine.txt").write_text("mine\n")
    workspace = Workspace.create(user, "r1")
    (workspace.path / "calc.py").write_text("half-applied\n")
    (workspace.path / "new" / "half.py").parent.mkdir()
    (workspace.path / "new" / "half.py").write_text("half\n")

    reset_worktree(workspace.path)

    assert (workspace.path / "calc.py").read_text() == "x = 1\n"
    assert not (workspace.path / "new").exists()
    assert (user / "calc.py").read_text() == "user edit\n"
    assert (user / "mine.txt").read_text() == "mine\n"
    # The run's files live outside the user's checkout and outside its .git.
    runs = RepoFiles.of(user).runs
    assert not runs.is_relative_to(user.resolve())
    assert not workspace.path.is_relative_to(user.resolve())


def test_replay_gives_back_each_stored_answer_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "r1.responses.jsonl"
    first = ReplayStore(path)
    assert first.take("coder", "ollama:m", request("a")) is None
    first.put("coder", "ollama:m", request("a"), response("one"))
    first.put("coder", "ollama:m", request("a"), response("two"))
    # Within the process that stored them, fresh answers are never replayed.
    assert first.take("coder", "ollama:m", request("a")) is None

    resumed = ReplayStore(path)

    assert resumed.take("reviewer", "ollama:m", request("a")) is None
    assert resumed.take("coder", "ollama:other", request("a")) is None
    assert resumed.take("coder", "ollama:m", request("b")) is None
    replies = [resumed.take("coder", "ollama:m", request("a")) for _ in range(3)]
    assert [r.text if r else None for r in replies] == ["one", "two", None]


def test_replay_skips_a_line_cut_by_a_kill_and_keeps_appending(tmp_path: Path) -> None:
    path = tmp_path / "r1.responses.jsonl"
    ReplayStore(path).put("coder", "ollama:m", request("a"), response("kept"))
    with path.open("a") as out:
        out.write('{"key": "abc", "respo')

    store = ReplayStore(path)
    store.put("coder", "ollama:m", request("b"), response("after"))

    again = ReplayStore(path)
    kept, after = (
        again.take("coder", "ollama:m", request("a")),
        again.take("coder", "ollama:m", request("b")),
    )
    assert (kept and kept.text, after and after.text) == ("kept", "after")


async def test_resume_adopts_a_commit_whose_state_was_never_saved(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    """Killed between a subtask's commit and the state write: the commit counts, no redo."""
    plan = Plan.model_validate(
        {"summary": "Add sub, document it.", "subtasks": [PLAN["subtasks"][0], PLAN["subtasks"][2]]}
    )
    workspace = Workspace.create(repo, "run-1")
    save_state(
        RepoFiles.of(repo).run("run-1").state,
        RunState(run_id="run-1", task=SCRIPTED_TASK, plan=plan, batch=plan.subtasks),
    )
    (workspace.path / "calc.py").write_text(CALC_SUB)
    sha = workspace.commit(
        "Step sub", "", {"Orchestrate-Run": "run-1", "Orchestrate-Subtask": "sub"}, ["calc.py"]
    )
    (workspace.path / "calc.py").write_text("def half_applied(\n")
    models["planner"] = ScriptedModel([], name="planner")
    models["coder"] = ScriptedModel([], name="coder")
    models["formatter"] = ScriptedModel([whole("README.md", README)], name="formatter")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)

    result = await engine.resume("run-1")

    assert result.status == "approved", result.detail
    assert models["coder"].requests == [] and models["planner"].requests == []
    done = {r.id: r.commit for r in result.subtasks}
    assert done["sub"] == sha and done["readme"] is not None
    assert [c.trailers["Orchestrate-Subtask"] for c in workspace.commits()] == ["sub", "readme"]
    assert (workspace.path / "calc.py").read_text() == CALC_SUB
    # A finished run resumed again reports its result and calls nothing.
    assert await engine.resume("run-1") == result


async def test_resume_of_a_continued_run_does_not_adopt_the_earlier_runs_commits(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    """Work sent back reuses subtask ids; only this run's own commits count as done."""
    earlier = Workspace.create(repo, "run-1")
    (earlier.path / "calc.py").write_text(CALC_SUB)
    earlier.commit(
        "Step sub", "", {"Orchestrate-Run": "run-1", "Orchestrate-Subtask": "sub"}, ["calc.py"]
    )
    plan = Plan.model_validate({"summary": "Redo sub.", "subtasks": [PLAN["subtasks"][0]]})
    Workspace.create(repo, "run-2", continues="run-1")
    save_state(
        RepoFiles.of(repo).run("run-2").state,
        RunState(run_id="run-2", task=SCRIPTED_TASK, plan=plan, batch=plan.subtasks),
    )
    fixed = CALC_SUB.replace("a - b", "(a) - (b)")
    models["planner"] = ScriptedModel([], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", fixed)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)

    result = await engine.resume("run-2")

    assert result.status == "approved", result.detail
    assert len(models["coder"].requests) == 1
    runs = [c.trailers["Orchestrate-Run"] for c in Workspace.open(repo, "run-2").commits()]
    assert runs == ["run-1", "run-2"]


def test_a_run_stopped_from_outside_reopens_its_unreached_subtasks_only() -> None:
    def result(sid: str, status: str, failure: str | None, rounds: int) -> SubtaskResult:
        return SubtaskResult.model_validate(
            {
                "id": sid,
                "title": sid,
                "kind": "code",
                "agent": "coder",
                "status": status,
                "commit": "abc" if status == "done" else None,
                "model": None,
                "rounds": rounds,
                "detail": "",
                "failure": failure,
            }
        )

    skipped = SubtaskResult.ended(
        Subtask(id="after", title="t", kind="code", spec="s", edit_files=["a.py"]),
        "skipped: it depends on down, which failed",
    )
    state = RunState(
        run_id="r1",
        task=TASK,
        results=[
            result("done", "done", None, 1),
            result("wrong", "failed", "task", 3),
            result("down", "failed", "infrastructure", 0),
            skipped,
        ],
    )
    base: dict[str, Any] = {
        "run_id": "r1",
        "task": "t",
        "branch": "b",
        "worktree": "w",
        "base_sha": "s",
        "status": "failed",
        "plan": None,
        "subtasks": [],
        "review": None,
        "commits": [],
        "cloud_usd": 0,
        "local_tokens": 0,
        "counterfactual_usd": 0,
        "detail": "",
    }
    state.result = RunResult.model_validate(base)
    assert not state.unfinished  # failed on its own terms: nothing for a resume to do
    state.result = RunResult.model_validate(base | {"resumable": True})
    assert state.unfinished

    state.reopen()

    assert state.result is None
    assert [r.id for r in state.results] == ["done", "wrong"]
