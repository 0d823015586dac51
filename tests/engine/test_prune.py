"""`orchestrate prune`: finished runs lose their worktree and saved progress, never their branch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC_SUB,
    CHAINS,
    PLAN,
    TASK,
    git,
    make_engine,
    models,
    repo,
    whole,
)

from orchestrate.engine.prune import prune_finished
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_state import RunState, save_state
from orchestrate.engine.workspace import Workspace
from orchestrate.models.scripted import ScriptedModel

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest


async def _finished_run(repo: Path, models: dict[str, ScriptedModel], run_id: str) -> None:
    only_sub = {"summary": "Add sub.", "subtasks": [PLAN["subtasks"][0]]}
    models["planner"] = ScriptedModel([json.dumps(only_sub)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)
    assert (await engine.run(TASK, run_id)).status == "approved"


def _prune_cli(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", "prune", "--repo", str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )


async def test_finished_runs_go_unfinished_and_dirty_ones_stay_and_branches_are_kept(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    await _finished_run(repo, models, "done-1")
    await _finished_run(repo, models, "dirty-1")
    dirty = Workspace.open(repo, "dirty-1")
    (dirty.path / "notes.txt").write_text("my own notes\n")
    git(dirty.path, "add", "notes.txt")
    Workspace.create(repo, "open-1")
    files = RepoFiles.of(repo)
    save_state(files.run("open-1").state, RunState(run_id="open-1", task=TASK))
    files.run("done-1").responses.write_text("")
    assert files.run("done-1").home.is_dir()  # the checks' scratch HOME
    done_tree = Workspace.open(repo, "done-1").path

    result = _prune_cli(repo)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("removed worktree and saved progress of 1 finished runs")
    assert lines[0].endswith("(branches kept): done-1")
    assert lines[1].startswith("kept dirty-1: uncommitted changes")
    assert lines[2].startswith("kept open-1: unfinished")
    assert not done_tree.exists()
    done = files.run("done-1")
    assert not done.state.exists() and not done.responses.exists() and not done.home.exists()
    assert (dirty.path / "notes.txt").read_text() == "my own notes\n"
    assert files.run("open-1").state.exists() and files.run("dirty-1").state.exists()
    # The result is the branch: still there, and its diff can still be opened.
    assert git(repo, "show", "orchestrate/done-1:calc.py") == CALC_SUB
    assert "+def sub(a, b):" in Workspace.open(repo, "done-1").diff()
    # Pruning again finds nothing more to remove.
    again = prune_finished(repo)
    assert (again.removed, again.kept_dirty, again.unfinished) == ([], ["dirty-1"], ["open-1"])


def test_a_directory_outside_git_is_one_error_line(tmp_path: Path) -> None:
    result = _prune_cli(tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path} is not a git repository: run `git init` there or pass --repo"
    ]
