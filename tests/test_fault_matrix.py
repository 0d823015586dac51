"""Every agent role against every fault the fakes inject: the run gets through on the fallback
(or, for a request no model can serve, stops with one clear line), no commit is lost or doubled,
and the ledger holds exactly one row per attempt with costs only where a model answered.

The faulted role's first model is Claude through the real `anthropic` SDK against a loopback
fake; its fallback and every other role are scripted models that answer correctly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    EndpointConfig,
    ModelInfo,
    OrchestrateConfig,
    PriceEntry,
)
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.events import EventBus
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import AttemptRecord, Ledger, Outcome
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.routing.router import Router
from orchestrate.testing.fake_anthropic import HEADER_CHUNKS, FakeAnthropic
from orchestrate.testing.fake_server import Reply, free_port

ROLES = ("planner", "coder", "tester", "formatter", "reviewer")
STRUCTURED = {"planner", "reviewer"}
"""Roles whose answers are JSON documents checked against a schema (workers write edits)."""
CLAUDE = "claude-sonnet-4-6"
PRICE = PriceEntry(input=3.0, output=15.0, context_window=200_000)
REPLY_USD = (10 * 3.0 + 5 * 15.0) / 1e6
"""What one fake answer costs: `Reply` reports 10 tokens in and 5 out by default."""
TIMEOUT_S = 0.3


@dataclass(frozen=True)
class Fault:
    """One injected fault and what the faulted model's ledger rows must say about it."""

    name: str
    reply: Reply | None
    """The fake's answer to every request; None means nothing listens on the endpoint."""
    outcome: Outcome
    error_class: str | None
    attempts: int
    """Rows for the faulted model: retried faults are tried twice (retries=1)."""
    stops: bool = False
    """The run must stop: the request itself is wrong, so no fallback may be tried."""


def _faults(role: str) -> dict[str, Fault]:
    structured = role in STRUCTURED
    # A forced-tool answer must be JSON for the fake to send it; the words make several deltas.
    text = json.dumps({"note": "a b c d e f"}) if structured else "here is my answer in words"
    invalid = (
        Fault(
            "schema_invalid", Reply(text=json.dumps({"nonsense": True})), "invalid_output", None, 2
        )
        if structured
        # A worker's reply without edits is a valid answer (paid for) that its checks reject.
        else Fault("schema_invalid", Reply(text="I would rather not edit anything."), "ok", None, 1)
    )
    faults = [
        Fault("429", Reply(status=429, error="rate limited"), "retry", "rate_limit", 2),
        Fault("500", Reply(status=500, error="internal error"), "retry", "server_error", 2),
        Fault("529", Reply(status=529, error="Overloaded"), "retry", "overloaded", 2),
        Fault("timeout", Reply(text=text, delay_s=TIMEOUT_S * 3), "retry", "timeout", 2),
        Fault("refused", None, "move_on", "unreachable", 1),
        Fault(
            "cut_stream",
            Reply(text=text, cut_after_chunks=HEADER_CHUNKS + 1),
            "retry",
            "cut_stream",
            2,
        ),
        Fault("malformed_json", Reply(malformed=True), "retry", "malformed_response", 2),
        invalid,
        Fault(
            "context_too_long",
            Reply(status=400, error="prompt is too long: 250000 tokens > 200000 maximum"),
            "context_overflow",
            "context_overflow",
            1,
        ),
        Fault(
            "invalid_request",
            Reply(status=400, error="messages.0.content: Field required"),
            "stop",
            "invalid_request",
            1,
            stops=True,
        ),
    ]
    return {fault.name: fault for fault in faults}


FAULT_NAMES = tuple(_faults("planner"))

# --- the project and the scripted answers ------------------------------------------------------

CALC = "def add(a, b):\n    return a + b\n"
CALC_SUB = CALC + "\n\ndef sub(a, b):\n    return a - b\n"
TEST_SUB = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
README = "# calc\n\n## Usage\n\n`from calc import add, sub`\n"


def _subtask(sid: str, kind: str, path: str, check: str) -> dict[str, Any]:
    return {
        "id": sid,
        "title": f"Step {sid}",
        "kind": kind,
        "spec": f"Carry out step {sid}.",
        "read_files": [],
        "edit_files": [path],
        "depends_on": [],
        "checks": [check],
    }


PLAN = {
    "summary": "Add sub, test it, document it.",
    "subtasks": [
        _subtask("sub", "code", "calc.py", "grep -q 'def sub' calc.py"),
        _subtask("tests", "test", "tests/test_calc.py", "grep -q test_sub tests/test_calc.py"),
        _subtask("readme", "format", "README.md", "grep -q Usage README.md"),
    ],
}
APPROVE = {"verdict": "approve", "summary": "Looks good.", "comments": [], "follow_ups": []}
TASK = TaskSpec(
    title="Add subtraction",
    instructions="calc needs sub(a, b), a test, and usage docs.",
    files=["calc.py"],
    checks=["grep -q 'def sub' calc.py"],
    line=1,
)


def _whole(path: str, text: str) -> str:
    return f"{path}\n```python\n{text}```\n"


ANSWERS = {
    "planner": json.dumps(PLAN),
    "coder": _whole("calc.py", CALC_SUB),
    "tester": _whole("tests/test_calc.py", TEST_SUB),
    "formatter": _whole("README.md", README),
    "reviewer": json.dumps(APPROVE),
}


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed tiny project, copied for each case (cheaper than `git init` fifty times)."""
    root = tmp_path_factory.mktemp("template") / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_calc.py").write_text("")
    (root / "README.md").write_text("# calc\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


@pytest.fixture(scope="module")
def claude() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def fake(claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    claude.reset()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    return claude


@pytest.fixture
def fallbacks() -> Iterator[dict[str, ScriptedModel]]:
    """One correct scripted model per role, registered as `scripted:<role>`."""
    models = {role: ScriptedModel([ANSWERS[role]], name=role) for role in ROLES}
    for role, model in models.items():
        register_scripted(role, model)
    yield models
    for role in models:
        unregister_scripted(role)


def _config(role: str, faulted: str, fake_url: str, fault: Fault) -> OrchestrateConfig:
    def agent(name: str) -> AgentConfig:
        chain = [faulted, f"scripted:{name}"] if name == role else [f"scripted:{name}"]
        return AgentConfig(
            name=name,
            model=chain[0],
            fallbacks=chain[1:],
            system_prompt=f"You are the {name}.",
            retries=1,
            timeout=TIMEOUT_S if fault.name == "timeout" else 10.0,
        )

    cloud = {"kind": "anthropic", "tier": "cloud", "api_key_env": "ANTHROPIC_API_KEY"}
    # Scripted fallbacks take a larger context than Claude, so an overflow may move on to them.
    wide = {name: ModelInfo(context_window=1_000_000) for name in ROLES}
    return OrchestrateConfig(
        agents={name: agent(name) for name in ROLES},
        endpoints={
            **BUILTIN_ENDPOINTS,
            "scripted": EndpointConfig(kind="scripted", tier="local", concurrency=8, models=wide),
            "fake": EndpointConfig.model_validate({**cloud, "base_url": fake_url}),
            "dead": EndpointConfig.model_validate(
                {**cloud, "base_url": f"http://127.0.0.1:{free_port()}"}
            ),
        },
        prices={**packaged_prices().prices, f"fake:{CLAUDE}": PRICE, f"dead:{CLAUDE}": PRICE},
        reference_model="anthropic:claude-sonnet-4-6",
    )


async def _no_sleep(_seconds: float) -> None:
    """Backoff waits are skipped: the fault, not the wait, is under test."""


def _branch_commits(repo: Path, base: str, branch: str) -> dict[str, str]:
    """Commit sha → its Orchestrate-Subtask trailer, for every commit the run added."""
    log = _git(
        repo,
        "log",
        "--format=%H %(trailers:key=Orchestrate-Subtask,valueonly,separator=)",
        f"{base}..{branch}",
    )
    return dict(line.split(" ", 1) for line in log.splitlines() if line.strip())


@pytest.mark.parametrize("fault_name", FAULT_NAMES)
@pytest.mark.parametrize("role", ROLES)
async def test_every_role_survives_every_fault(
    role: str,
    fault_name: str,
    fake: FakeAnthropic,
    fallbacks: dict[str, ScriptedModel],
    template: Path,
    tmp_path: Path,
) -> None:
    fault = _faults(role)[fault_name]
    fake.default = fault.reply
    faulted = f"{'dead' if fault.reply is None else 'fake'}:{CLAUDE}"
    config = _config(role, faulted, fake.url, fault)
    repo = tmp_path / "repo"
    shutil.copytree(template, repo)
    ledger = Ledger(None)
    bus = EventBus()
    router = Router(config, ledger, events=bus, run_id="fault", sleep=_no_sleep)
    # Every role is faulted, the planner too: the task is planned although it names its files
    # and checks.
    options = EngineOptions(
        concurrency=3, max_fix_rounds=1, max_review_rounds=1, check_timeout=30, always_plan=True
    )
    engine = Engine(config, router, repo, events=bus, options=options)
    try:
        result = await engine.run(TASK, "fault")
    finally:
        await router.aclose()

    # The run got through on the fallback, or stopped with one line naming the refused request.
    if fault.stops:
        assert result.status == "failed"
        assert "\n" not in result.detail
        assert f"{faulted} rejected the request" in result.detail, result.detail
        assert fallbacks[role].requests == []
    else:
        assert result.status == "approved", result.detail
        for model in fallbacks.values():
            model.assert_done()

    # Every finished subtask has exactly one commit on the branch, and nothing else was committed.
    done = {s.id: s.commit for s in result.subtasks if s.status == "done"}
    assert all(done.values())
    on_branch = _branch_commits(repo, result.base_sha, result.branch)
    assert on_branch == {sha: sid for sid, sha in done.items()}
    assert sorted(result.commits) == sorted(on_branch)
    expected_done = 3 if not fault.stops else {"planner": 0, "reviewer": 3}.get(role, 2)
    assert len(done) == expected_done

    # One ledger row per attempt; the faulted model's rows say what went wrong.
    rows = ledger.attempts("fault")
    assert not [r for r in rows if r.outcome == "skipped"]
    mine = [r for r in rows if r.model == faulted]
    assert [(r.outcome, r.error_class) for r in mine] == [
        (fault.outcome, fault.error_class)
    ] * fault.attempts
    assert len(fake.requests) == (0 if fault.reply is None else fault.attempts)
    _assert_costs(rows, mine, fault, result.cloud_usd)


def _assert_costs(
    rows: list[AttemptRecord], mine: list[AttemptRecord], fault: Fault, cloud_usd: float
) -> None:
    """Money only where a model answered, and the run's total is the ledger's."""
    for row in rows:
        answered = row.outcome in ("ok", "invalid_output")
        assert (row.cost_usd > 0) == (answered and row.tier == "cloud"), row
    paid = fault.outcome in ("ok", "invalid_output")
    assert sum(r.cost_usd for r in mine) == pytest.approx(REPLY_USD * len(mine) if paid else 0.0)
    assert sum(r.cost_usd for r in rows) == pytest.approx(cloud_usd)
