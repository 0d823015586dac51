"""A killed `orchestrate run` finished by `--resume`: nothing redone, nothing paid for twice.

The CLI runs as a subprocess against loopback fakes and is SIGKILLed at a known point (a reply
held back with `delay_s`, or a check waiting on a file), found by polling, never by guessing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.e2e.test_run_e2e import (
    CALC,
    CALC_SUB,
    CLAUDE,
    OLLAMA,
    PLAN_MD,
    PLANNED,
    README,
    SUB_CHECK,
    Fakes,
    branch_trailers,
    fakes,
    git,
    orchestrate,
    repo,
    step,
    whole,
    write_agents,
)

from orchestrate.config.loader import load_config
from orchestrate.engine.run_files import RepoFiles
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.models.base import Usage
from orchestrate.testing.fake_server import FakeServer, Reply

__all__ = ["fakes", "repo"]  # fixtures, imported to be found by pytest
HELD = 60.0
"""A reply held this long is one the process is killed waiting for."""
PLAN_REPLY = Reply(
    text=json.dumps(
        {
            "summary": "Add sub and document it.",
            "subtasks": [
                step("sub", "code", ["calc.py"], [SUB_CHECK]),
                step("readme", "format", ["README.md"], ["grep -q Usage README.md"]),
            ],
        }
    ),
    input_tokens=1500,
    output_tokens=400,
)
APPROVE_REPLY = Reply(
    text=json.dumps({"verdict": "approve", "summary": "Good.", "comments": [], "follow_ups": []}),
    input_tokens=2100,
    output_tokens=60,
)
SUB_REPLY = Reply(text=whole("calc.py", CALC_SUB), input_tokens=301, output_tokens=41)
README_REPLY = Reply(text=whole("README.md", README), input_tokens=402, output_tokens=42)


def held(reply: Reply) -> Reply:
    return Reply(
        text=reply.text,
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        delay_s=HELD,
    )


def posts(fake: FakeServer) -> int:
    return sum(request.method == "POST" for request in fake.requests)


def wait_for(what: str, ready: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        assert process.poll() is None, f"run ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def start(cwd: Path, fakes: Fakes, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": fakes.claude.url,
        "OLLAMA_HOST": fakes.ollama.url,
    }
    return subprocess.Popen(
        # The fake planner's checks are part of each scenario: they run, as the user trusts them.
        [sys.executable, "-m", "orchestrate", "run", *args, *PLANNED, "--trust-model-checks"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def run_ids(repo: Path) -> list[str]:
    runs = RepoFiles.of(repo).runs
    return sorted(p.stem for p in runs.glob("*.json")) if runs.is_dir() else []


def killed_then_resumed(
    tmp_path: Path,
    repo: Path,
    fakes: Fakes,
    kill_when: Callable[[], bool],
    plan_md: str = PLAN_MD,
    on_kill: Callable[[], None] = lambda: None,
    concurrency: int = 1,
) -> tuple[str, dict[str, object], subprocess.CompletedProcess[str]]:
    agents = write_agents(tmp_path, fakes)
    # The checks here signal through files in tmp_path: outside any sandbox's writable folders.
    with (agents / "providers.yaml").open("a") as providers:
        providers.write("checks: {sandbox: none}\n")
    plan = tmp_path / "plan.md"
    plan.write_text(plan_md)
    args = (str(plan), "--agents", str(agents), "--concurrency", str(concurrency))
    process = start(repo, fakes, *args)
    try:
        wait_for("the kill point", kill_when, process)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    on_kill()
    [run_id] = run_ids(repo)
    resumed = orchestrate(repo, fakes, *args, "--json", "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    return run_id, json.loads(resumed.stdout)["tasks"][0], resumed


def assert_finished_once(repo: Path, run_id: str, task: dict[str, object], fakes: Fakes) -> None:
    """One commit per subtask; each finished call paid once; the clean run's cost, no more."""
    assert task["status"] == "approved"
    base = git(repo, "rev-parse", "main").strip()
    commits = branch_trailers(repo, f"orchestrate/{run_id}", base)
    assert sorted(c["Orchestrate-Subtask"] for c in commits) == ["readme", "sub"]
    assert git(repo, "show", f"orchestrate/{run_id}:calc.py") == CALC_SUB
    assert git(repo, "show", f"orchestrate/{run_id}:README.md") == README
    fakes.drained()
    with Ledger(default_ledger_path(repo)) as ledger:
        rows = [r for r in ledger.attempts(run_id) if r.outcome == "ok"]
    paid = [(r.model, r.input_tokens) for r in rows if r.detail != "replayed"]
    assert sorted(paid) == sorted([(CLAUDE, 1500), (OLLAMA, 301), (OLLAMA, 402), (CLAUDE, 2100)])
    pricer = Pricer.from_config(load_config(repo, repo.parent / "agents"))
    clean = sum(
        pricer.cost(
            CLAUDE, "cloud", Usage(input_tokens=r.input_tokens, output_tokens=r.output_tokens)
        )
        for r in (PLAN_REPLY, APPROVE_REPLY)
    )
    assert sum(r.cost_usd for r in rows) == pytest.approx(clean)
    assert all(r.cost_usd == 0 for r in rows if r.detail == "replayed")


def test_killed_during_planning_plans_again_on_resume(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(held(PLAN_REPLY))

    def refill() -> None:
        fakes.claude.push(PLAN_REPLY, APPROVE_REPLY)
        fakes.ollama.push(SUB_REPLY, README_REPLY)

    run_id, task, _ = killed_then_resumed(
        tmp_path, repo, fakes, lambda: posts(fakes.claude) == 1, on_kill=refill
    )

    assert_finished_once(repo, run_id, task, fakes)
    assert posts(fakes.ollama) == 2


def test_killed_mid_subtask_keeps_the_committed_one(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(PLAN_REPLY, APPROVE_REPLY)
    fakes.ollama.push(SUB_REPLY, held(README_REPLY))

    run_id, task, _ = killed_then_resumed(
        tmp_path,
        repo,
        fakes,
        lambda: posts(fakes.ollama) == 2,
        on_kill=lambda: fakes.ollama.push(README_REPLY),
    )

    assert_finished_once(repo, run_id, task, fakes)
    # `sub` was not asked for again: one request for it, two for the killed `readme`.
    assert posts(fakes.ollama) == 3
    assert posts(fakes.claude) == 2


def test_killed_during_a_check_replays_the_paid_edit(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    waiting = f"touch {started}; while [ -e {hold} ]; do sleep 0.05; done; grep -q Usage README.md"
    plan = json.loads(PLAN_REPLY.text)
    plan["subtasks"][1]["checks"] = [waiting]
    fakes.claude.push(
        Reply(text=json.dumps(plan), input_tokens=1500, output_tokens=400), APPROVE_REPLY
    )
    fakes.ollama.push(SUB_REPLY, README_REPLY)

    run_id, task, _ = killed_then_resumed(
        tmp_path, repo, fakes, started.exists, on_kill=hold.unlink
    )

    assert_finished_once(repo, run_id, task, fakes)
    # The edit the killed process had paid for came from the replay store, not the model.
    assert posts(fakes.ollama) == 2
    with Ledger(default_ledger_path(repo)) as ledger:
        replayed = [r for r in ledger.attempts(run_id) if r.detail == "replayed"]
    assert [(r.model, r.cost_usd) for r in replayed] == [(OLLAMA, 0.0)]
    # `orchestrate cost` tells the calls the providers served from the answer read back.
    cost = subprocess.run(
        [sys.executable, "-m", "orchestrate", "cost", "--run", run_id, "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    totals = json.loads(cost.stdout)["totals"]
    assert (totals["calls"], totals["replayed"]) == (posts(fakes.claude) + posts(fakes.ollama), 1)


def test_killed_during_a_check_in_a_lane_clears_the_lanes_and_finishes_once(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    waiting = f"touch {started}; while [ -e {hold} ]; do sleep 0.05; done; grep -q Usage README.md"
    plan = json.loads(PLAN_REPLY.text)
    plan["subtasks"][1]["checks"] = [waiting]
    # In this order, so the fake's replies meet their requests; still in lanes (concurrency 2).
    plan["subtasks"][1]["depends_on"] = ["sub"]
    fakes.claude.push(
        Reply(text=json.dumps(plan), input_tokens=1500, output_tokens=400), APPROVE_REPLY
    )
    fakes.ollama.push(SUB_REPLY, README_REPLY)
    left: list[bool] = []

    def after_kill() -> None:
        [run_id] = run_ids(repo)
        left.append(RepoFiles.of(repo).run(run_id).lanes.is_dir())
        hold.unlink()

    run_id, task, _ = killed_then_resumed(
        tmp_path, repo, fakes, started.exists, on_kill=after_kill, concurrency=2
    )

    assert left == [True]  # the killed process's check ran in a lane, which it left behind
    assert_finished_once(repo, run_id, task, fakes)
    assert not RepoFiles.of(repo).run(run_id).lanes.exists()
    listed = git(repo, "worktree", "list", "--porcelain").splitlines()
    worktree = str(RepoFiles.of(repo).run(run_id).worktree)
    assert [line for line in listed if line.startswith("worktree ")] == [
        f"worktree {repo}",
        f"worktree {worktree}",
    ]


def test_killed_during_review_reviews_again_without_redoing_work(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(PLAN_REPLY, held(APPROVE_REPLY))
    fakes.ollama.push(SUB_REPLY, README_REPLY)

    run_id, task, _ = killed_then_resumed(
        tmp_path,
        repo,
        fakes,
        lambda: posts(fakes.claude) == 2,
        on_kill=lambda: fakes.claude.push(APPROVE_REPLY),
    )

    assert_finished_once(repo, run_id, task, fakes)
    assert posts(fakes.ollama) == 2
    assert posts(fakes.claude) == 3


def test_resuming_a_finished_run_reports_it_without_calling_anything(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(PLAN_REPLY, APPROVE_REPLY)
    fakes.ollama.push(SUB_REPLY, README_REPLY)
    agents = write_agents(tmp_path, fakes)
    (tmp_path / "plan.md").write_text(PLAN_MD)
    args = (str(tmp_path / "plan.md"), "--agents", str(agents), "--concurrency", "1", "--json")
    first = orchestrate(repo, fakes, *args)
    assert first.returncode == 0, first.stderr
    run_id = json.loads(first.stdout)["tasks"][0]["run_id"]

    again = orchestrate(repo, fakes, *args, "--resume", run_id)

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["tasks"][0]["status"] == "approved"
    assert (posts(fakes.claude), posts(fakes.ollama)) == (2, 2)
    assert git(repo, "show", f"orchestrate/{run_id}:calc.py") != CALC
