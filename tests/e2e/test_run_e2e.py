"""`orchestrate run plan.md` as a user runs it: a subprocess, the real SDKs, loopback fakes.

Planner and reviewer talk to a fake Anthropic; coder, tester and formatter to a fake Ollama,
falling back to a fake vLLM (an OpenAI-compatible endpoint declared in providers.yaml).
Subtasks run one at a time so each fake's replies are consumed in a known order.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrate.config.loader import load_config
from orchestrate.events import EVENT_ADAPTER, Escalated, RunFinished
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.models.base import Usage
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

PY = shlex.quote(sys.executable)
CLAUDE = "anthropic:claude-sonnet-4-6"
OLLAMA = "ollama:qwen2.5-coder:7b"
VLLM = "vllm:Qwen/Qwen2.5-Coder-32B-Instruct"
CALC = "def add(a, b):\n    return a + b\n"
CALC_SUB_BAD = CALC + "\n\ndef sub(a, b):\n    return b - a\n"
CALC_SUB = CALC + "\n\ndef sub(a, b):\n    return a - b\n"
CALC_DOC = '"""Tiny calculator."""\n\n\n' + CALC_SUB
TEST_BAD = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 3\n"
TEST_GOOD = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
README = "# calc\n\n## Usage\n\n`from calc import add, sub`\n"
# Plain interpreter checks: a pytest start-up per check would make this file slow.
TEST_CHECK = f"{PY} -c 'from tests.test_calc import test_sub; test_sub()'"
TASK_CHECK = f"{PY} -c 'import calc; assert calc.add(1, 2) == 3 and calc.sub(5, 3) == 2'"
SUB_CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
DOC_CHECK = f"{PY} -c 'import calc; assert calc.__doc__'"
USER_EDIT = "# the user's unfinished edit\n"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def whole(path: str, text: str) -> str:
    return f"{path}\n```python\n{text}```\n"


def step(
    sid: str, kind: str, files: list[str], checks: list[str], deps: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": sid,
        "title": f"Step {sid}",
        "kind": kind,
        "spec": f"Carry out step {sid}.",
        "read_files": [],
        "edit_files": files,
        "depends_on": deps or [],
        "checks": checks,
    }


PLAN = {
    "summary": "Add sub, test it, document it.",
    "subtasks": [
        step("sub", "code", ["calc.py"], [SUB_CHECK]),
        step("tests", "test", ["tests/test_calc.py"], [TEST_CHECK], deps=["sub"]),
        step("readme", "format", ["README.md"], ["grep -q Usage README.md"]),
    ],
}
FOLLOW_UP = step("docstring", "code", ["calc.py"], [DOC_CHECK])
CHANGES = {
    "verdict": "request_changes",
    "summary": "calc.py lacks a module docstring.",
    "comments": [{"path": "calc.py", "line": 1, "severity": "warning", "body": "add a docstring"}],
    "follow_ups": [FOLLOW_UP],
}
APPROVE = {"verdict": "approve", "summary": "Looks good.", "comments": [], "follow_ups": []}
PLAN_MD = f"""# Calculator

## Add subtraction

calc needs sub(a, b), a test, and usage docs.

files: calc.py
check: {TASK_CHECK}
"""


@dataclass
class Fakes:
    claude: FakeAnthropic
    ollama: FakeOllama
    vllm: FakeOpenAI

    def drained(self) -> None:
        for fake in (self.claude, self.ollama, self.vllm):
            fake.assert_drained()


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with FakeAnthropic() as claude, FakeOllama() as ollama, FakeOpenAI() as vllm:
        yield Fakes(claude, ollama, vllm)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    (root / "README.md").write_text("# calc\n")
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


def write_agents(root: Path, fakes: Fakes) -> Path:
    agents = root / "agents"
    agents.mkdir()
    (agents / "providers.yaml").write_text(
        f"endpoints:\n  vllm:\n    kind: openai\n    tier: local\n    base_url: '{fakes.vllm.base_url}'\n"
    )
    chains = {
        "planner": [CLAUDE],
        "reviewer": [CLAUDE],
        "coder": [OLLAMA, VLLM],
        "tester": [OLLAMA, VLLM],
        "formatter": [OLLAMA, VLLM],
    }
    for name, chain in chains.items():
        fallbacks = "".join(f"\n  - {ref}" for ref in chain[1:])
        (agents / f"{name}.yaml").write_text(
            f"model: {chain[0]}\nfallbacks:{fallbacks or ' []'}\nretries: 0\n"
            f"max_tokens: 2048\nnum_ctx: 16384\nsystem_prompt: You are the {name}.\n"
        )
    return agents


def orchestrate(
    cwd: Path, fakes: Fakes | None, *args: str, trust: bool = True
) -> subprocess.CompletedProcess[str]:
    """`orchestrate run ARGS`; with `trust`, the checks the (fake) planner writes run too."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY")
        and k not in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "OLLAMA_HOST")
    }
    if fakes is not None:
        env |= {
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ANTHROPIC_BASE_URL": fakes.claude.url,
            "OLLAMA_HOST": fakes.ollama.url,
        }
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", "run", *args, *PLANNED, *TRUST * trust],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


TRUST = ("--trust-model-checks",)
PLANNED = ("--always-plan", "--full-review")
"""These runs are about the (fake) planner's plan and the (fake) reviewer's verdicts: tasks naming
files and checks are planned too, and every review is the full reviewer's (no quick review; the
quick review has its own tests: `test_quick_review_e2e.py`)."""


def branch_trailers(repo: Path, branch: str, base: str) -> list[dict[str, str]]:
    fmt = "%H%x1f%(trailers:only,unfold)%x1e"
    out = git(repo, "log", "--reverse", f"--format={fmt}", f"{base}..{branch}")
    found = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 2:
            sha, block = fields
            pairs = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            found.append({"sha": sha, **pairs})
    return found


def test_run_fixes_escalates_reviews_and_reports_exactly_what_it_spent(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    # Token counts are all different, so each ledger row can be traced to the reply it records.
    planner_reply = Reply(
        text=json.dumps(PLAN), input_tokens=1500, output_tokens=400, cache_read_tokens=300
    )
    review_1 = Reply(
        text=json.dumps(CHANGES), input_tokens=2100, output_tokens=250, cache_write_tokens=120
    )
    review_2 = Reply(
        text=json.dumps(APPROVE), input_tokens=2300, output_tokens=60, cache_read_tokens=900
    )
    fakes.claude.push(planner_reply, review_1, review_2)
    ollama_replies = [
        Reply(text=whole("calc.py", CALC_SUB_BAD), input_tokens=301, output_tokens=41),
        Reply(text=whole("calc.py", CALC_SUB), input_tokens=402, output_tokens=42),
        *(
            Reply(
                text=whole("tests/test_calc.py", TEST_BAD), input_tokens=503 + n, output_tokens=43
            )
            for n in range(3)
        ),
        Reply(text=whole("README.md", README), input_tokens=604, output_tokens=44),
        Reply(text=whole("calc.py", CALC_DOC), input_tokens=705, output_tokens=45),
    ]
    fakes.ollama.push(*ollama_replies)
    vllm_reply = Reply(
        text=whole("tests/test_calc.py", TEST_GOOD), input_tokens=806, output_tokens=46
    )
    fakes.vllm.push(vllm_reply)
    agents = write_agents(tmp_path, fakes)
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN_MD)
    # The user is mid-edit: a dirty tracked file and an untracked one.
    (repo / "calc.py").write_text(USER_EDIT)
    (repo / "scratch.txt").write_text("mine\n")
    status_before = git(repo, "status", "--porcelain")
    head_before = git(repo, "rev-parse", "HEAD").strip()
    log = tmp_path / "events.jsonl"
    markdown = tmp_path / "report.md"

    result = orchestrate(
        repo,
        fakes,
        str(plan),
        "--agents",
        str(agents),
        "--concurrency",
        "1",
        "--json",
        "--log",
        str(log),
        "--report",
        str(markdown),
    )

    assert result.returncode == 0, result.stderr
    fakes.drained()
    report = json.loads(result.stdout)
    task = report["tasks"][0]
    assert task["status"] == "approved"
    assert task["review_verdict"] == "approve"
    run_id, branch = task["run_id"], task["branch"]
    assert branch == f"orchestrate/{run_id}"

    # The user's checkout is exactly as it was (the ledger folder under it ignores itself).
    assert git(repo, "status", "--porcelain") == status_before
    assert (repo / "calc.py").read_text() == USER_EDIT
    assert git(repo, "rev-parse", "HEAD").strip() == head_before

    # One commit per subtask, trailers naming who wrote it; the report lists the same commits.
    commits = branch_trailers(repo, branch, head_before)
    by_subtask = {
        c["Orchestrate-Subtask"]: (c["Orchestrate-Agent"], c["Orchestrate-Model"]) for c in commits
    }
    assert by_subtask == {
        "sub": ("coder", OLLAMA),
        "tests": ("tester", VLLM),
        "readme": ("formatter", OLLAMA),
        "docstring": ("coder", OLLAMA),
    }
    assert {c["Orchestrate-Run"] for c in commits} == {run_id}
    assert task["commits"] == [c["sha"] for c in commits]
    assert git(repo, "show", f"{branch}:calc.py") == CALC_DOC
    assert git(repo, "show", f"{branch}:tests/test_calc.py") == TEST_GOOD

    # The coder saw its failing check's output; the tester escalated after three failed rounds.
    second_coder_call = fakes.ollama.requests[1].json()["messages"][-1]["content"]
    assert "AssertionError" in second_coder_call
    subtasks = {s["id"]: s for s in task["subtasks"]}
    assert subtasks["sub"]["rounds"] == 2
    assert subtasks["tests"]["escalations"] == [f"{OLLAMA} -> {VLLM}"]
    assert subtasks["tests"]["model"] == VLLM

    # The ledger holds one row per reply, with the usage each fake reported, in call order.
    expected = [
        (CLAUDE, planner_reply),
        *((OLLAMA, r) for r in ollama_replies[:5]),
        (VLLM, vllm_reply),
        (OLLAMA, ollama_replies[5]),
        (CLAUDE, review_1),
        (OLLAMA, ollama_replies[6]),
        (CLAUDE, review_2),
    ]
    with Ledger(default_ledger_path(repo)) as ledger:
        rows = ledger.attempts(run_id)
    assert [
        (r.model, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens)
        for r in rows
    ] == [
        (ref, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens)
        for ref, r in expected
    ]
    assert all(r.outcome == "ok" for r in rows)

    # The report's money is what those usages cost at the configured prices.
    pricer = Pricer.from_config(load_config(repo, agents))

    def usage(reply: Reply) -> Usage:
        return Usage(
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cache_read_tokens=reply.cache_read_tokens,
            cache_write_tokens=reply.cache_write_tokens,
        )

    cloud = sum(pricer.cost(CLAUDE, "cloud", usage(r)) for ref, r in expected if ref == CLAUDE)
    local = [usage(r) for ref, r in expected if ref != CLAUDE]
    local_tokens = sum(u.prompt_tokens + u.output_tokens for u in local)
    counterfactual = cloud + sum(pricer.counterfactual(u) for u in local)
    for figures in (task["cost"], report["totals"]["cost"]):
        assert figures["cloud_usd"] == pytest.approx(cloud)
        assert figures["local_tokens"] == local_tokens
        assert figures["counterfactual_usd"] == pytest.approx(counterfactual)
        assert figures["savings_usd"] == pytest.approx(counterfactual - cloud)
    assert report["totals"]["approved"] == report["totals"]["tasks"] == 1
    assert pricer.reference_model in report["counterfactual_note"]

    # Progress went to stderr as plain lines (not a terminal); every event went to the log.
    assert f"sub: check failed: {SUB_CHECK}" in result.stderr
    assert f"tests: escalated {OLLAMA} → {VLLM}" in result.stderr
    assert "review: request_changes (1 comments)" in result.stderr
    events = [EVENT_ADAPTER.validate_json(line) for line in log.read_text().splitlines()]
    assert [e.to_model for e in events if isinstance(e, Escalated)] == [VLLM]
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert len(finished) == 1 and finished[0].ok and finished[0].branch == branch
    assert "## 1. Add subtraction: approved" in markdown.read_text()


def test_run_exits_1_when_the_reviewer_never_approves(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    plan = {"summary": "Add sub.", "subtasks": [step("sub", "code", ["calc.py"], [SUB_CHECK])]}
    still_changes = {**CHANGES, "summary": "Still no docstring.", "follow_ups": []}
    fakes.claude.push(
        Reply(text=json.dumps(plan)),
        Reply(text=json.dumps(CHANGES)),
        Reply(text=json.dumps(still_changes)),
    )
    # The follow-up's edit passes its check, but the reviewer still is not satisfied.
    fakes.ollama.push(
        Reply(text=whole("calc.py", CALC_SUB)), Reply(text=whole("calc.py", CALC_DOC))
    )
    agents = write_agents(tmp_path, fakes)
    (tmp_path / "plan.md").write_text(PLAN_MD)
    markdown = tmp_path / "report.md"

    result = orchestrate(
        repo,
        fakes,
        str(tmp_path / "plan.md"),
        "--agents",
        str(agents),
        "--json",
        "--report",
        str(markdown),
    )

    assert result.returncode == 1, result.stderr
    fakes.drained()
    task = json.loads(result.stdout)["tasks"][0]
    assert task["status"] == "changes_requested"
    assert task["review_verdict"] == "request_changes"
    assert task["review_summary"] == "Still no docstring."
    assert len(task["commits"]) == 2  # the work that passed its checks stays on the branch
    assert git(repo, "show", f"{task['branch']}:calc.py") == CALC_DOC
    assert "NOT approved" in markdown.read_text()


def test_missing_plan_file_is_one_error_line_and_exit_2(repo: Path) -> None:
    result = orchestrate(repo, None, "no-such-plan.md")

    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: no-such-plan.md: file not found (check the path)"]
    assert "Traceback" not in result.stdout + result.stderr
    assert git(repo, "branch", "--list", "orchestrate/*") == ""


def test_a_directory_outside_git_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "plan.md").write_text(PLAN_MD)

    result = orchestrate(plain, None, "plan.md")

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("error: ") and "is not a git repository" in lines[0]
    )
    assert "Traceback" not in result.stderr
    assert not (plain / ".orchestrate").exists()


def test_a_failing_event_log_is_reported_and_the_run_goes_on(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    plan = {"summary": "Add sub.", "subtasks": [step("sub", "code", ["calc.py"], [SUB_CHECK])]}
    fakes.claude.push(Reply(text=json.dumps(plan)), Reply(text=json.dumps(APPROVE)))
    fakes.ollama.push(Reply(text=whole("calc.py", CALC_SUB)))
    agents = write_agents(tmp_path, fakes)
    (tmp_path / "plan.md").write_text(PLAN_MD)

    # /dev/full opens fine and fails every write with ENOSPC, like a disk that fills mid-run.
    result = orchestrate(
        repo,
        fakes,
        str(tmp_path / "plan.md"),
        "--agents",
        str(agents),
        "--json",
        "--log",
        "/dev/full",
    )

    assert result.returncode == 0, result.stderr
    fakes.drained()
    assert "bug in orchestrate" not in result.stderr and "Traceback" not in result.stderr
    [said] = [line for line in result.stderr.splitlines() if "/dev/full" in line]
    assert "--log /dev/full" in said and "No space left on device" in said
    assert "the run goes on" in said
    task = json.loads(result.stdout)["tasks"][0]
    assert task["status"] == "approved"
    assert git(repo, "show", f"{task['branch']}:calc.py") == CALC_SUB
    # The run finished as any run does: its worktree clean, nothing half-done left in it.
    assert git(Path(task["worktree"]), "status", "--porcelain") == ""
