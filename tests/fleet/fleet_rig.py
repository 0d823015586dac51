"""A `--repos` run as a user starts it: a subprocess, the real SDKs, loopback fakes, and a fake
GitHub whose repositories have real git remotes (bare repositories) to clone from and push to.

The planner talks to a fake Anthropic, the reviewer to a local OpenAI-compatible fake and the
workers to a fake Ollama; each answers every request with its default reply, so repositories
running at once get the same answers in whatever order they ask.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_run_e2e import CALC, CALC_SUB, SUB_CHECK, git, step, whole

from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_github import FakeGitHub, HostedRepo
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

TOKEN = "ghp_fleettoken0123456789"
PLANNER = "anthropic:claude-sonnet-4-6"
PLANNED = ("--always-plan", "--full-review")
"""These runs are about the (fake) planner's plan and the (fake) reviewer's verdict: its task,
naming files and checks, is planned, and reviewed by the full reviewer (no quick review)."""
REVIEWER = "reviewer:qwen-review"
WORKER = "ollama:qwen2.5-coder:7b"
PLAN_MD = f"""# Subtraction

## Add subtraction

calc needs sub(a, b).

files: calc.py
check: {SUB_CHECK}
"""
PLAN = Reply(
    text=json.dumps({"summary": "Add sub.", "subtasks": [step("sub", "code", ["calc.py"], [])]}),
    input_tokens=1200,
    output_tokens=300,
)
EDIT = Reply(text=whole("calc.py", CALC_SUB), input_tokens=300, output_tokens=40)
APPROVE = Reply(
    text=json.dumps({"verdict": "approve", "summary": "Good.", "comments": [], "follow_ups": []}),
    input_tokens=900,
    output_tokens=50,
)


@dataclass
class Fleet:
    """The fakes of one test, and its folder."""

    root: Path
    planner: FakeAnthropic
    reviewer: FakeOpenAI
    workers: FakeOllama
    github: FakeGitHub

    def agents(self) -> Path:
        folder = self.root / "agents"
        folder.mkdir(exist_ok=True)
        (folder / "providers.yaml").write_text(
            "endpoints:\n  reviewer:\n    kind: openai\n    tier: local\n"
            f"    base_url: '{self.reviewer.base_url}'\n"
        )
        chains = {
            "planner": PLANNER,
            "reviewer": REVIEWER,
            "coder": WORKER,
            "tester": WORKER,
            "formatter": WORKER,
        }
        for name, model in chains.items():
            (folder / f"{name}.yaml").write_text(
                f"model: {model}\nfallbacks: []\nretries: 0\nmax_tokens: 2048\n"
                f"num_ctx: 16384\nsystem_prompt: You are the {name}.\n"
            )
        return folder

    def plan(self) -> Path:
        path = self.root / "plan.md"
        path.write_text(PLAN_MD)
        return path

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith("_API_KEY")
            and k not in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "OLLAMA_HOST", "GITHUB_TOKEN")
        }
        return env | {
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ANTHROPIC_BASE_URL": self.planner.url,
            "OLLAMA_HOST": self.workers.url,
            "GITHUB_API_URL": self.github.url,
            "GITHUB_TOKEN": TOKEN,
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orchestrate", "run", *args, *PLANNED],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=180,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrate", "run", *args, *PLANNED],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env(),
        )

    def local_repo(self, name: str, github: str | None = None) -> Path:
        """A checkout under the test's folder; with `github`, its origin is that repository's
        https URL, which git rewrites (`url.<bare>.insteadOf`) to the hosted remote."""
        path = make_repo(self.root / name)
        if github is not None:
            hosted = self.host(github, source=path)
            url = f"https://github.com/{github}.git"
            git(path, "remote", "add", "origin", url)
            git(path, "config", f"url.{hosted.remote}.insteadOf", url)
        return path

    def host(self, full_name: str, source: Path | None = None) -> HostedRepo:
        """A repository on the fake GitHub, its remote a bare copy of `source` (or of a new
        calc repository)."""
        if source is None:
            source = make_repo(self.root / "sources" / full_name)
        remote = self.root / "remotes" / f"{full_name}.git"
        remote.parent.mkdir(parents=True, exist_ok=True)
        git(self.root, "clone", "-q", "--bare", str(source), str(remote))
        return self.github.host(HostedRepo(full_name, remote))


def make_repo(path: Path) -> Path:
    (path / "tests").mkdir(parents=True)
    (path / "calc.py").write_text(CALC)
    (path / "README.md").write_text("# calc\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", ".")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return path


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    with (
        FakeAnthropic() as planner,
        FakeOpenAI() as reviewer,
        FakeOllama() as workers,
        FakeGitHub(token=TOKEN) as github,
    ):
        planner.default, reviewer.default, workers.default = PLAN, APPROVE, EDIT
        yield Fleet(tmp_path, planner, reviewer, workers, github)


def report_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def branch_head(remote: Path, branch: str) -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=remote,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def wait_for(what: str, ready: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Poll until `ready` (a point to kill the run at); a `--repos` run starts several sessions,
    so it is given longer than one run on a busy machine."""
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, f"run ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
