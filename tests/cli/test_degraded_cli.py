"""`orchestrate run` says when an agent falls below what it was set up for: a progress line as
it happens, and a line in the report."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrate.cli.app import app
from orchestrate.cli.progress import describe
from orchestrate.events import RoleDegraded
from orchestrate.models.scripted import (
    ScriptedFailure,
    ScriptedModel,
    register_scripted,
    unregister_scripted,
)
from orchestrate.routing.failures import Failure, FailureKind

PY = shlex.quote(sys.executable)
CHECK = f"{PY} -c 'import a; assert a.one == 1'"
PLAN = {
    "summary": "Write a.py.",
    "subtasks": [
        {
            "id": "one",
            "title": "Write a.py",
            "kind": "code",
            "spec": "Make a.py define one = 1.",
            "edit_files": ["a.py"],
            "checks": [CHECK],
        }
    ],
}
APPROVE = {"verdict": "approve", "summary": "Good.", "comments": [], "follow_ups": []}
CHAINS = {
    "planner": ["scripted:planner"],
    "coder": ["scripted:down", "scloud:coder"],
    "reviewer": ["scripted:reviewer"],
    "tester": ["scripted:idle"],
    "formatter": ["scripted:idle"],
}
LINE = (
    "coder now on scloud:coder: a paid cloud model, where scripted:down (local, free) was the "
    "first choice"
)


def test_a_degradation_is_one_progress_line() -> None:
    event = RoleDegraded(run_id="r", agent="coder", model="scloud:coder", reason="why")
    assert describe(event) == "degraded: coder now on scloud:coder: why"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "i"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True
        )
    return root


@pytest.fixture
def models() -> Iterator[None]:
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "connection refused"))
    registered = {
        "planner": ScriptedModel([json.dumps(PLAN)]),
        "down": ScriptedModel([down]),
        "coder": ScriptedModel(["a.py\n```python\none = 1\n```\n"], input_tokens=900),
        "reviewer": ScriptedModel([json.dumps(APPROVE)]),
        "idle": ScriptedModel([]),
    }
    for name, model in registered.items():
        register_scripted(name, model)
    yield
    for name in registered:
        unregister_scripted(name)


def test_the_run_says_it_as_it_happens_and_the_report_keeps_it(
    repo: Path, models: None, tmp_path: Path
) -> None:
    agents = tmp_path / "agents"
    agents.mkdir()
    for name, chain in CHAINS.items():
        fallbacks = "".join(f"\n  - {ref}" for ref in chain[1:])
        (agents / f"{name}.yaml").write_text(
            f"system_prompt: You are the {name}.\nmodel: {chain[0]}\n"
            f"fallbacks:{fallbacks or ' []'}\nretries: 0\nmax_tokens: 1000\n"
        )
    (agents / "providers.yaml").write_text(
        "endpoints:\n  scloud: {kind: scripted, tier: cloud}\n"
        "prices:\n  scloud:coder: {input: 3.0, output: 15.0}\n"
    )
    plan = tmp_path / "plan.md"
    plan.write_text(f"# Demo\n\n## Write a.py\n\nMake a.py.\n\ncheck: {CHECK}\n")
    args = ["run", str(plan), "--repo", str(repo), "--agents", str(agents)]
    args += ["--ledger", str(tmp_path / "ledger.sqlite")]

    outcome = CliRunner().invoke(app, args)

    assert outcome.exit_code == 0, outcome.output
    assert f"degraded: {LINE}" in outcome.output  # the progress line, as it happened
    assert f"- degraded: {LINE}" in outcome.output  # the report's line
