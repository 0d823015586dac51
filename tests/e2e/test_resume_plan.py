"""`--resume` carries on the whole plan the killed run belongs to, and one process at a time.

Real `orchestrate run` subprocesses against loopback fakes, SIGKILLed at points found by polling.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_resume import (
    APPROVE_REPLY,
    PLAN_REPLY,
    README_REPLY,
    SUB_REPLY,
    assert_finished_once,
    held,
    posts,
    run_ids,
    start,
    wait_for,
)
from tests.e2e.test_run_e2e import (
    CLAUDE,
    OLLAMA,
    PLAN_MD,
    PLANNED,
    Fakes,
    fakes,
    git,
    orchestrate,
    repo,
    step,
    whole,
    write_agents,
)

from orchestrate.engine.run_files import RepoFiles
from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.testing.fake_server import Reply

__all__ = ["fakes", "repo"]  # fixtures, imported to be found by pytest

THREE_TASKS = """# Letters

## Write a

Create a.py.

## Write b

Create b.py.

## Write c

Create c.py.
"""


def plan_for(letter: str) -> Reply:
    check = f"grep -q '{letter.upper()} = 1' {letter}.py"
    subtasks = [step(letter, "code", [f"{letter}.py"], [check])]
    return Reply(text=json.dumps({"summary": letter, "subtasks": subtasks}), input_tokens=1000)


def edit_for(letter: str) -> Reply:
    return Reply(text=whole(f"{letter}.py", f"{letter.upper()} = 1\n"), input_tokens=200)


def test_resume_carries_on_every_unfinished_task_of_the_plan(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(plan_for("a"), APPROVE_REPLY, held(plan_for("b")))
    fakes.ollama.push(edit_for("a"))
    agents = write_agents(tmp_path, fakes)
    plan = tmp_path / "plan.md"
    plan.write_text(THREE_TASKS)
    args = (str(plan), "--agents", str(agents), "--concurrency", "1")
    first = start(repo, fakes, *args)
    try:
        wait_for("task 2's planning", lambda: posts(fakes.claude) == 3, first)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    started_at = git(repo, "rev-parse", "HEAD").strip()
    # The user carries on in their checkout meanwhile: later tasks still start where task 1 did.
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x", "--allow-empty")
    run_a, run_b = run_ids(repo)
    fakes.claude.push(plan_for("b"), APPROVE_REPLY, plan_for("c"), APPROVE_REPLY)
    fakes.ollama.push(edit_for("b"), edit_for("c"))

    resumed = orchestrate(repo, fakes, *args, "--json", "--resume", run_b)

    assert resumed.returncode == 0, resumed.stderr
    fakes.drained()
    tasks = json.loads(resumed.stdout)["tasks"]
    assert [t["task"] for t in tasks] == ["Write a", "Write b", "Write c"]
    assert [t["status"] for t in tasks] == ["approved"] * 3
    assert [t["run_id"] for t in tasks[:2]] == [run_a, run_b]
    # Task 1 was reported as it ended, not redone: 3 + 4 planner/reviewer calls, 3 edits.
    assert (posts(fakes.claude), posts(fakes.ollama)) == (7, 3)
    for letter, task in zip("abc", tasks, strict=True):
        branch = task["branch"]
        assert git(repo, "show", f"{branch}:{letter}.py") == f"{letter.upper()} = 1\n"
        assert git(repo, "rev-list", "--count", f"{started_at}..{branch}").strip() == "1"
    with Ledger(default_ledger_path(repo)) as ledger:
        paid = [r for r in ledger.attempts() if r.outcome == "ok" and r.detail != "replayed"]
    assert sorted((r.model, r.input_tokens) for r in paid) == sorted(
        [(CLAUDE, 1000)] * 3 + [(CLAUDE, APPROVE_REPLY.input_tokens)] * 3 + [(OLLAMA, 200)] * 3
    )


def test_a_second_resume_at_once_says_who_holds_the_run_and_pays_nothing(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    waiting = f"touch {started}; while [ -e {hold} ]; do sleep 0.05; done; grep -q Usage README.md"
    plan = json.loads(PLAN_REPLY.text)
    plan["subtasks"][1]["checks"] = [waiting]
    fakes.claude.push(held(PLAN_REPLY))
    agents = write_agents(tmp_path, fakes)
    # The check signals through files in tmp_path: outside any sandbox's writable folders.
    with (agents / "providers.yaml").open("a") as providers:
        providers.write("checks: {sandbox: none}\n")
    (tmp_path / "plan.md").write_text(PLAN_MD)
    args = (str(tmp_path / "plan.md"), "--agents", str(agents), "--concurrency", "1")
    killed = start(repo, fakes, *args)
    try:
        wait_for("planning", lambda: posts(fakes.claude) == 1, killed)
    finally:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
    [run_id] = run_ids(repo)
    fakes.claude.push(Reply(text=json.dumps(plan), input_tokens=1500, output_tokens=400))
    fakes.claude.push(APPROVE_REPLY)
    fakes.ollama.push(SUB_REPLY, README_REPLY)
    out, err = tmp_path / "first.out", tmp_path / "first.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        working = subprocess.Popen(
            [
                *(sys.executable, "-m", "orchestrate", "run", *args, *PLANNED),
                *("--json", "--resume", run_id, "--trust-model-checks"),
            ],
            cwd=repo,
            stdout=stdout,
            stderr=stderr,
            text=True,
            env=os.environ | fake_env(fakes),
        )
    try:
        wait_for("the first resume's check", started.exists, working)
        second = orchestrate(repo, fakes, *args, "--resume", run_id)
    finally:
        hold.unlink()
        working.wait(timeout=120)

    assert second.returncode == 3  # in use by another process: could not be done now
    [line] = second.stderr.splitlines()
    host = socket.gethostname()
    assert line.startswith(
        f"error: plan {tmp_path / 'plan.md'} is in use by process {working.pid} on {host} ("
    )
    assert line.endswith(
        "wait for it to finish, or stop that process and run the same command again"
    )
    assert working.returncode == 0, err.read_text()
    assert f"taken over from process {killed.pid} on {host}" in err.read_text()
    [task] = json.loads(out.read_text())["tasks"]
    assert_finished_once(repo, run_id, task, fakes)
    assert (posts(fakes.claude), posts(fakes.ollama)) == (3, 2)


def fake_env(fakes: Fakes) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": fakes.claude.url,
        "OLLAMA_HOST": fakes.ollama.url,
    }


def test_a_task_that_cannot_start_fails_alone_and_the_next_one_runs(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(held(plan_for("a")))
    agents = write_agents(tmp_path, fakes)
    plan = tmp_path / "plan.md"
    plan.write_text(THREE_TASKS)
    args = (str(plan), "--agents", str(agents), "--concurrency", "1")
    first = start(repo, fakes, *args)
    try:
        wait_for("task 1's planning", lambda: posts(fakes.claude) == 1, first)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    [run_a] = run_ids(repo)
    [record] = RepoFiles.of(repo).batches.glob("*.json")
    run_b = json.loads(record.read_text())["tasks"][1]["run_id"]
    # Something of the user's sits where task 2's worktree would go: task 2 cannot start.
    blocker = RepoFiles.of(repo).run(run_b).worktree
    blocker.mkdir(parents=True)
    (blocker / "keep.txt").write_text("mine\n")
    fakes.claude.push(plan_for("a"), APPROVE_REPLY, plan_for("c"), APPROVE_REPLY)
    fakes.ollama.push(edit_for("a"), edit_for("c"))

    resumed = orchestrate(repo, fakes, *args, "--json", "--resume", run_a)

    assert resumed.returncode == 1, resumed.stderr
    fakes.drained()
    tasks = json.loads(resumed.stdout)["tasks"]
    assert [t["status"] for t in tasks] == ["approved", "failed", "approved"]
    assert tasks[1]["run_id"] == run_b
    assert tasks[1]["detail"] == f"{blocker} already exists: remove it or pick another run id"
    assert (blocker / "keep.txt").read_text() == "mine\n"
    assert git(repo, "show", f"{tasks[2]['branch']}:c.py") == "C = 1\n"
