"""Cloud budgets: reservation maths, caps from config and the ledger, degrade vs stop, and a run
that reaches its cap half-way and spends no more than it, by the ledger."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from typer.testing import CliRunner

from orchestrate.cli.app import app
from orchestrate.config.loader import load_config
from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    BudgetConfig,
    EndpointConfig,
    OrchestrateConfig,
)
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.result import RunResult
from orchestrate.events import EventBus, ModelSkipped
from orchestrate.exceptions import BudgetExceededError, ConfigError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import AttemptRecord, Ledger
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.routing.budget import Budget
from orchestrate.routing.router import Router

from .router_support import CLOUD_PRICE, agent, make_config, make_router, scripted

REQUEST = ModelRequest(
    system="You write code.",
    messages=(Message(role="user", content="Write add(a, b)."),),
    settings=ModelSettings(max_tokens=100),
)
BUDGET_REASON = "cloud budget left is less than this call's worst case"
NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)


# --- the arithmetic --------------------------------------------------------------------------


def test_reservations_hold_the_worst_case_and_settle_to_the_real_cost() -> None:
    budget = Budget(0.10)
    first = budget.reserve(0.04)
    assert first is not None and budget.left_usd == pytest.approx(0.06)
    assert budget.reserve(0.07) is None  # would pass the cap: not sent
    assert budget.hit is not None and budget.hit.label == "--budget"
    second = budget.reserve(0.06)  # exactly what is left still fits
    assert second is not None and budget.left_usd == pytest.approx(0.0)
    budget.settle(first, 0.01)
    budget.settle(second, 0.0)  # a failed call is released
    assert budget.spent_usd == pytest.approx(0.01)
    assert budget.reserved_usd == pytest.approx(0.0)
    assert budget.left_usd == pytest.approx(0.09)


def test_no_cap_never_refuses() -> None:
    budget = Budget(None)
    assert budget.reserve(1e6) is not None
    assert budget.left_usd is None and budget.cap_usd is None and not budget.budget_hit


def _row(at: datetime, cost: float, tier: str = "cloud") -> AttemptRecord:
    return AttemptRecord.model_validate(
        {
            "run_id": "earlier",
            "at": at.timestamp(),
            "agent": "coder",
            "provider": "anthropic",
            "model": "anthropic:claude-sonnet-4-6",
            "tier": tier,
            "cost_usd": cost,
        }
    )


@pytest.fixture
def history() -> Iterator[Ledger]:
    """Cloud spend today ($0.30), earlier this month ($1.00), last month ($50), plus local rows."""
    ledger = Ledger(None)
    ledger.record(_row(datetime(2026, 2, 28, 23, 59, tzinfo=UTC), 50.0))
    ledger.record(_row(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), 0.60))
    ledger.record(_row(datetime(2026, 3, 14, 23, 59, tzinfo=UTC), 0.40))
    ledger.record(_row(datetime(2026, 3, 15, 0, 0, tzinfo=UTC), 0.10))
    ledger.record(_row(datetime(2026, 3, 15, 9, 0, tzinfo=UTC), 0.20))
    # Local tokens priced for electricity are not cloud spend.
    ledger.record(_row(datetime(2026, 3, 15, 9, 0, tzinfo=UTC), 7.0, tier="local"))
    yield ledger
    ledger.close()


def test_ledger_sums_cloud_spend_since_a_time(history: Ledger) -> None:
    day = datetime(2026, 3, 15, tzinfo=UTC).timestamp()
    assert history.cloud_spend_since(day) == pytest.approx(0.30)
    assert history.cloud_spend_since(NOW.timestamp()) == 0.0


def test_day_and_month_caps_count_the_ledger_since_the_utc_period_began(history: Ledger) -> None:
    day = Budget.from_config(BudgetConfig(per_day_usd=1.0), history, now=NOW)
    assert day.left_usd == pytest.approx(0.70)
    month = Budget.from_config(BudgetConfig(per_month_usd=2.0), history, now=NOW)
    assert month.left_usd == pytest.approx(2.0 - 1.30)
    assert month.binding is not None and month.binding.label == "per month"


def test_the_tightest_remaining_cap_binds(history: Ledger) -> None:
    config = BudgetConfig(per_run_usd=0.5, per_day_usd=1.0, per_month_usd=1.5)
    # Month: 1.5 - 1.3 = 0.2 left, tighter than the run's 0.5, the day's 0.7 and --budget's 0.4.
    budget = Budget.from_config(config, history, cli_cap=0.4, now=NOW)
    assert budget.left_usd == pytest.approx(0.2)
    assert budget.cap_usd == pytest.approx(1.5)
    assert budget.reserve(0.25) is None
    assert budget.hit is not None
    assert budget.hit.message() == (
        "cloud budget of $1.50 (per month) reached ($1.3000 spent); raise it with --budget or "
        "budget: in agents/providers.yaml"
    )
    reservation = budget.reserve(0.15)
    assert reservation is not None
    budget.settle(reservation, 0.15)
    # Spend counts against every cap: now the month has 0.05 left and --budget 0.25.
    assert [round(cap.left_usd, 6) for cap in budget.caps] == [0.25, 0.35, 0.55, 0.05]


def test_per_run_cap_starts_again_with_each_run_but_period_caps_do_not(history: Ledger) -> None:
    budget = Budget.from_config(BudgetConfig(per_run_usd=0.5, per_day_usd=1.0), history, now=NOW)
    reservation = budget.reserve(0.45)
    assert reservation is not None
    budget.settle(reservation, 0.45)
    assert budget.reserve(0.1) is None and budget.budget_hit
    budget.start_run()
    assert not budget.budget_hit
    # Run cap is back to 0.5, but the day has 1.0 - 0.3 - 0.45 = 0.25 left.
    assert budget.left_usd == pytest.approx(0.25)


# --- config ------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_budget_section_is_read_and_later_layers_override_the_caps_they_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(
        tmp_path / "repo" / "agents" / "providers.yaml",
        "budget:\n  per_day_usd: 5\n  per_run_usd: 1.5\n",
    )
    _write(tmp_path / "extra" / "providers.yaml", "budget:\n  per_run_usd: 0.25\n  on_cap: stop\n")
    assert load_config(tmp_path / "repo").budget == BudgetConfig(per_day_usd=5, per_run_usd=1.5)
    config = load_config(tmp_path / "repo", tmp_path / "extra")
    assert config.budget == BudgetConfig(per_day_usd=5, per_run_usd=0.25, on_cap="stop")


def test_shipped_defaults_set_no_cap() -> None:
    assert load_config().budget == BudgetConfig()


def test_bad_budget_value_is_one_line_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "agents" / "providers.yaml", "prices: {}\nbudget:\n  on_cap: halt\n")
    with pytest.raises(ConfigError) as caught:
        load_config(agents_dir=tmp_path / "agents")
    message = str(caught.value)
    assert message.startswith("agents/providers.yaml:3: budget.on_cap: ")
    assert "\n" not in message and "degrade" in message


# --- degrade or stop, through the router -----------------------------------------------------


async def test_degrade_skips_the_cloud_model_says_so_and_local_answers() -> None:
    cloud, local = ScriptedModel([]), ScriptedModel(["local answer"])
    with scripted(big=cloud, a=local):
        cfg = make_config(agent("scloud:big", "scripted:a"))
        # max_tokens=100 at $15/Mtok alone is $0.0015: more than the cap.
        budget = Budget(0.001)
        router, ledger, _, seen = make_router(cfg, budget=budget)
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    assert routed.model_ref == "scripted:a" and cloud.requests == []
    skips = [e for e in seen if isinstance(e, ModelSkipped)]
    assert [(e.model, e.reason) for e in skips] == [("scloud:big", BUDGET_REASON)]
    assert [(r.model, r.outcome) for r in ledger.attempts()] == [
        ("scloud:big", "skipped"),
        ("scripted:a", "ok"),
    ]
    assert budget.hit is not None
    assert budget.hit.note() == (
        "cloud budget of $0.001 (--budget) reached ($0.0000 spent): cloud models were left out"
    )


async def test_stop_raises_instead_of_falling_back() -> None:
    cloud, local = ScriptedModel([]), ScriptedModel([])
    with scripted(big=cloud, a=local):
        cfg = make_config(agent("scloud:big", "scripted:a"))
        budget = Budget(0.001, on_cap="stop")
        router, ledger, _, _ = make_router(cfg, budget=budget)
        with pytest.raises(BudgetExceededError, match=r"^cloud budget of \$0\.001 \(--budget\)"):
            await router.complete(cfg.agents["coder"], REQUEST)
    assert cloud.requests == [] and local.requests == []
    [row] = ledger.attempts()
    assert (row.outcome, row.detail) == ("skipped", BUDGET_REASON)
    assert budget.hit is not None and "the run stopped" in budget.hit.note()


# --- a whole run that reaches its cap half-way -------------------------------------------------

# Every cloud answer reports 2000 tokens in and 1000 out at $3/$15 per Mtok: $0.021 a call. Its
# reservation is between $0.0165 and $0.021 (max_tokens 1000 plus a prompt under ~6000 chars).
# With a $0.05 cap the planner's call and the first coder call fit ($0.042 spent), and nothing
# later can: $0.008 is left.
CALL_USD = (2000 * 3.0 + 1000 * 15.0) / 1e6
CAP_USD = 0.05


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def _subtask(sid: str, path: str, deps: list[str]) -> dict[str, Any]:
    return {
        "id": sid,
        "title": f"Write {path}",
        "kind": "code",
        "spec": f"Write {path}.",
        "read_files": [],
        "edit_files": [path],
        "depends_on": deps,
        "checks": [f"grep -q {sid} {path}"],
    }


PLAN = {
    "summary": "Two files, one after the other.",
    "subtasks": [_subtask("one", "a.py", []), _subtask("two", "b.py", ["one"])],
}
APPROVE = {"verdict": "approve", "summary": "Fine.", "comments": [], "follow_ups": []}


def _edit(path: str, text: str) -> str:
    return f"{path}\n```python\n{text}\n```\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("# demo\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


CHAINS = {
    "planner": ("scloud:planner", "scripted:idle"),
    "coder": ("scloud:coder", "scripted:coder-local"),
    "reviewer": ("scloud:reviewer", "scripted:reviewer-local"),
    "tester": ("scripted:idle",),
    "formatter": ("scripted:idle",),
}
CLOUD_MODELS = ("planner", "coder", "reviewer")


@pytest.fixture
def models() -> Iterator[dict[str, ScriptedModel]]:
    """Cloud models that each answer once; the local ones that take over at the cap."""

    def cloud(*steps: str) -> ScriptedModel:
        return ScriptedModel(list(steps), input_tokens=2000, output_tokens=1000)

    registered = {
        "planner": cloud(json.dumps(PLAN)),
        "coder": cloud(_edit("a.py", "one = 1")),
        "reviewer": cloud(),
        "coder-local": ScriptedModel([_edit("b.py", "two = 2")]),
        "reviewer-local": ScriptedModel([json.dumps(APPROVE)]),
        "idle": ScriptedModel([]),
    }
    for name, model in registered.items():
        register_scripted(name, model)
    yield registered
    for name in registered:
        unregister_scripted(name)


def _assert_capped(rows: list[AttemptRecord], branch: str, repo: Path) -> None:
    """Two cloud calls fit under the cap; after that every cloud model is passed over, with
    the reason, and the local ones answer; both subtasks are committed."""
    cloud_rows = [r for r in rows if r.tier == "cloud" and r.outcome != "skipped"]
    assert [(r.model, r.outcome) for r in cloud_rows] == [
        ("scloud:planner", "ok"),
        ("scloud:coder", "ok"),
    ]
    spent = sum(r.cost_usd for r in rows)
    assert spent == pytest.approx(2 * CALL_USD) and spent <= CAP_USD
    later = rows[rows.index(cloud_rows[-1]) + 1 :]
    assert [(r.model, r.outcome, r.detail) for r in later] == [
        ("scloud:coder", "skipped", BUDGET_REASON),
        ("scripted:coder-local", "ok", None),
        ("scloud:reviewer", "skipped", BUDGET_REASON),
        ("scripted:reviewer-local", "ok", None),
    ]
    log = _git(repo, "log", "--format=%(trailers:key=Orchestrate-Model,valueonly)", branch)
    assert [line for line in log.split() if line] == ["scripted:coder-local", "scloud:coder"]


async def _run_capped(
    repo: Path, run_id: str, on_cap: Literal["degrade", "stop"]
) -> tuple[RunResult, Ledger, Budget, list[object]]:
    agents = {
        name: AgentConfig(
            name=name,
            model=chain[0],
            fallbacks=list(chain[1:]),
            system_prompt=f"You are the {name}.",
            retries=0,
            max_tokens=1000,
        )
        for name, chain in CHAINS.items()
    }
    config = OrchestrateConfig(
        agents=agents,
        endpoints={**BUILTIN_ENDPOINTS, "scloud": EndpointConfig(kind="scripted", tier="cloud")},
        prices={
            **packaged_prices().prices,
            **{f"scloud:{name}": CLOUD_PRICE for name in CLOUD_MODELS},
        },
        reference_model="anthropic:claude-sonnet-4-6",
        budget=BudgetConfig(per_run_usd=CAP_USD, on_cap=on_cap),
    )
    ledger = Ledger(None)
    budget = Budget.from_config(config.budget, ledger)
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    router = Router(config, ledger, events=bus, budget=budget, run_id=run_id)
    # The task has no checks; the reviewer's word is accepted, as a user may allow.
    options = EngineOptions(check_timeout=30, accept_unchecked=True)
    engine = Engine(config, router, repo, events=bus, options=options)
    task = TaskSpec(title="Two files", instructions="Write a.py then b.py.", line=1)
    try:
        result = await engine.run(task, run_id)
    finally:
        await router.aclose()
    return result, ledger, budget, seen


async def test_a_run_that_reaches_its_cap_spends_no_more_and_carries_on_locally(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    result, ledger, budget, seen = await _run_capped(repo, "capped", "degrade")

    assert result.status == "approved", result.detail
    rows = ledger.attempts("capped")
    _assert_capped(rows, result.branch, repo)
    assert result.cloud_usd == pytest.approx(sum(r.cost_usd for r in rows))
    skipped = [e.model for e in seen if isinstance(e, ModelSkipped) and e.reason == BUDGET_REASON]
    assert skipped == ["scloud:coder", "scloud:reviewer"]
    assert budget.hit is not None and budget.hit.label == "per run"
    assert budget.hit.note().endswith("cloud models were left out")
    for model in models.values():
        model.assert_done()


async def test_a_run_configured_to_stop_at_its_cap_fails_with_one_line_and_keeps_its_work(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    result, ledger, budget, _ = await _run_capped(repo, "stopped", "stop")

    assert result.status == "failed"
    assert "cloud budget of $" in result.detail and "\n" not in result.detail
    rows = ledger.attempts("stopped")
    assert sum(r.cost_usd for r in rows) <= CAP_USD
    # No local model took over: stopping means stopping.
    assert models["coder-local"].requests == []
    assert budget.hit is not None and budget.hit.note().endswith("the run stopped")
    # The subtask finished before the cap is kept on the branch.
    log = _git(repo, "log", "--format=%(trailers:key=Orchestrate-Subtask,valueonly)", result.branch)
    assert [line for line in log.split() if line] == ["one"]


def test_the_command_line_budget_caps_a_run_the_same_way(
    repo: Path, models: dict[str, ScriptedModel], tmp_path: Path
) -> None:
    agents_dir = tmp_path / "agents"
    for name, chain in CHAINS.items():
        fallbacks = "".join(f"\n  - {ref}" for ref in chain[1:])
        _write(
            agents_dir / f"{name}.yaml",
            f"system_prompt: You are the {name}.\nmodel: {chain[0]}\n"
            f"fallbacks:{fallbacks or ' []'}\nretries: 0\nmax_tokens: 1000\n",
        )
    prices = "".join(f"  scloud:{name}: {{input: 3.0, output: 15.0}}\n" for name in CLOUD_MODELS)
    _write(
        agents_dir / "providers.yaml",
        f"endpoints:\n  scloud: {{kind: scripted, tier: cloud}}\nprices:\n{prices}",
    )
    plan = tmp_path / "plan.md"
    plan.write_text("# Demo\n\n## Two files\n\nWrite a.py then b.py.\n")
    ledger_path = tmp_path / "ledger.sqlite"
    args = ["run", str(plan), "--repo", str(repo), "--agents", str(agents_dir)]
    args += ["--ledger", str(ledger_path), "--budget", str(CAP_USD), "--trust-model-checks"]
    args += ["--full-review"]  # the packaged quick reviewer has no key here: the cap is the point

    outcome = CliRunner().invoke(app, args)

    assert outcome.exit_code == 0, outcome.output
    with Ledger(ledger_path) as ledger:
        [run] = ledger.runs()
        rows = ledger.attempts(run.run_id)
    assert run.cloud_usd <= CAP_USD
    _assert_capped(rows, f"orchestrate/{run.run_id}", repo)
    for model in models.values():
        model.assert_done()
