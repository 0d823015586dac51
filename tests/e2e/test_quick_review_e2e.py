"""The quick review as a user meets it: `orchestrate run` in a subprocess, the packaged
quick-reviewer agent (Claude Haiku 5.5) behind the fake Anthropic server, the real SDKs.

The task names its file and its check, so it runs as written (no planner call): the only cloud
calls are reviews.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_run_e2e import (
    APPROVE,
    CALC_SUB,
    PLAN_MD,
    TRUST,
    Fakes,
    fakes,
    repo,
    whole,
    write_agents,
)

from orchestrate.testing.fake_server import Reply

__all__ = ["fakes", "repo"]  # fixtures, imported to be found by pytest

QUICK_OK = {"verdict": "approve", "summary": "sub is added; the check passes.", "comments": []}


def run(tmp_path: Path, repo: Path, fakes: Fakes, *flags: str) -> subprocess.CompletedProcess[str]:
    fakes.ollama.push(Reply(text=whole("calc.py", CALC_SUB)))
    agents = write_agents(tmp_path, fakes)
    (tmp_path / "plan.md").write_text(PLAN_MD)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": fakes.claude.url,
        "OLLAMA_HOST": fakes.ollama.url,
    }
    args = (str(tmp_path / "plan.md"), "--agents", str(agents), "--json", *TRUST, *flags)
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", "run", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def models_asked(fakes: Fakes) -> list[str]:
    return [request.json()["model"] for request in fakes.claude.requests]


def test_the_quick_reviewer_approves_a_small_checked_change_and_says_so(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(Reply(text=json.dumps(QUICK_OK)))

    done = run(tmp_path, repo, fakes)

    assert done.returncode == 0, done.stderr
    fakes.drained()
    assert models_asked(fakes) == ["claude-haiku-5-5"]  # the full reviewer was never paid
    [task] = json.loads(done.stdout)["tasks"]
    assert task["status"] == "approved"
    assert task["reviewed_by"].startswith("quick-reviewer anthropic:claude-haiku-5-5")
    assert (
        "quick review by anthropic:claude-haiku-5-5 approved: 4 changed lines, task checks pass; "
        "--full-review for the full reviewer"
    ) in done.stderr


def test_full_review_on_the_command_line_skips_the_quick_reviewer(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(Reply(text=json.dumps(APPROVE)))

    done = run(tmp_path, repo, fakes, "--full-review")

    assert done.returncode == 0, done.stderr
    fakes.drained()
    assert models_asked(fakes) == ["claude-sonnet-4-6"]  # the agents dir's reviewer
    [task] = json.loads(done.stdout)["tasks"]
    assert task["reviewed_by"] == "reviewer (--full-review)"
    assert "quick review" not in done.stderr
