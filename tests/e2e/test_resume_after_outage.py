"""A run that failed because a server was down is carried on by `--resume` once it is back:
no planning again, no paying twice, finished work kept."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.e2e.test_resume import (
    APPROVE_REPLY,
    PLAN_REPLY,
    README_REPLY,
    SUB_REPLY,
    assert_finished_once,
    posts,
)
from tests.e2e.test_run_e2e import PLAN_MD, Fakes, fakes, orchestrate, repo, write_agents

from orchestrate.testing.fake_server import Reply, free_port

__all__ = ["fakes", "repo"]  # fixtures, imported to be found by pytest

BUSY = Reply(status=503, error="server busy, please try again")


def first_run(tmp_path: Path, repo: Path, env: object) -> tuple[tuple[str, ...], dict[str, Any]]:
    agents = write_agents(tmp_path, env)  # type: ignore[arg-type]
    (tmp_path / "plan.md").write_text(PLAN_MD)
    args = (str(tmp_path / "plan.md"), "--agents", str(agents), "--concurrency", "1", "--json")
    done = orchestrate(repo, env, *args)  # type: ignore[arg-type]
    assert done.returncode == 1, done.stderr
    [task] = json.loads(done.stdout)["tasks"]
    assert task["status"] == "failed"
    return args, task


def test_workers_whose_server_was_down_carry_on_when_it_is_back(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(PLAN_REPLY)
    fakes.vllm.push(BUSY, BUSY)  # the fallback is no help either
    ollama_down = SimpleNamespace(url=f"http://127.0.0.1:{free_port()}")
    down = SimpleNamespace(claude=fakes.claude, ollama=ollama_down, vllm=fakes.vllm)

    args, failed = first_run(tmp_path, repo, down)

    run_id = failed["run_id"]
    assert str(failed["detail"]).startswith("a worker could not reach a model: ")
    assert str(failed["detail"]).endswith(
        f"once that is fixed, `orchestrate run --resume {run_id}` carries the run on without "
        "planning again or paying twice"
    )
    fakes.ollama.push(SUB_REPLY, README_REPLY)
    fakes.claude.push(APPROVE_REPLY)

    resumed = orchestrate(repo, fakes, *args, "--resume", run_id)

    assert resumed.returncode == 0, resumed.stderr
    [task] = json.loads(resumed.stdout)["tasks"]
    assert_finished_once(repo, run_id, task, fakes)
    # Planned once; each edit asked for once the server was back.
    assert (posts(fakes.claude), posts(fakes.ollama)) == (2, 2)


def test_a_review_the_overloaded_cloud_refused_is_made_when_it_answers_again(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    overloaded = Reply(status=529, error="Overloaded", error_type="overloaded_error")
    fakes.claude.push(PLAN_REPLY, overloaded)
    fakes.ollama.push(SUB_REPLY, README_REPLY)

    args, failed = first_run(tmp_path, repo, fakes)

    run_id = failed["run_id"]
    assert str(failed["detail"]).startswith(
        "review failed: agent 'reviewer': no model could answer"
    )
    fakes.claude.push(APPROVE_REPLY)

    resumed = orchestrate(repo, fakes, *args, "--resume", run_id)

    assert resumed.returncode == 0, resumed.stderr
    [task] = json.loads(resumed.stdout)["tasks"]
    assert_finished_once(repo, run_id, task, fakes)
    # Nothing planned or edited again: only the review was asked for.
    assert (posts(fakes.claude), posts(fakes.ollama)) == (3, 2)


def test_a_run_that_failed_on_its_own_terms_is_not_redone(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    # The planner answers a plan with no subtasks, twice (answer and repair): resuming would
    # replay the same answers and fail the same way.
    empty = Reply(text=json.dumps({"summary": "nothing to do", "subtasks": []}))
    fakes.claude.push(empty, empty)
    task_md = PLAN_MD.replace("files: calc.py\n", "")
    agents = write_agents(tmp_path, fakes)
    (tmp_path / "plan.md").write_text(task_md)
    args = (str(tmp_path / "plan.md"), "--agents", str(agents), "--json")
    done = orchestrate(repo, fakes, *args)
    [task] = json.loads(done.stdout)["tasks"]
    assert task["status"] == "failed" and "--resume" not in task["detail"]
    before = posts(fakes.claude)

    again = orchestrate(repo, fakes, *args, "--resume", task["run_id"])

    assert json.loads(again.stdout)["tasks"][0]["detail"] == task["detail"]
    assert posts(fakes.claude) == before
