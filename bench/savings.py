"""Savings: the reference suite run all-cloud and hybrid, with SCRIPTED models, through the engine.

Every task of `bench/tasks/` runs twice through the real engine (plan, workers, checks, review,
git worktree, router, ledger): once with every agent on a priced cloud model, once with the
hybrid defaults (planner and reviewer in the cloud, workers local). The models are scripted: their
answers and token counts are fixed per task in `bench/tasks/<name>/script.yaml`, so the figures
measure what the routing saves for those token counts, not what real models would write.

`--real` instead runs the suite's worker subtasks on the real local model (llamacpp:gemma3-270m,
planner and reviewer still scripted, one reply per subtask, at most 512 tokens) and prints its
pass rate and tokens per second; that takes 5 to 15 minutes on 2 cores.

    uv run python bench/savings.py [--task NAME ...] [--real]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _common import Table, show
from _suite import ROLES, WORKER_ROLES, BenchTask, ScriptedTask, load_suite

from orchestrate.config.loader import load_config
from orchestrate.config.schema import EndpointConfig, OrchestrateConfig
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.result import RunResult
from orchestrate.events import EventBus
from orchestrate.ledger.store import AttemptRecord, Ledger
from orchestrate.models.scripted import register_scripted, unregister_scripted
from orchestrate.routing.router import Router

CLOUD_MODEL = "anthropic:claude-sonnet-4-6"
"""Every scripted cloud call is priced as this model (also the savings reference)."""
REAL_LOCAL = "llamacpp:gemma3-270m"
ALL_CLOUD = dict.fromkeys(ROLES, "cloud")
HYBRID = {"planner": "cloud", "reviewer": "cloud", **dict.fromkeys(WORKER_ROLES, "local")}


@dataclass(frozen=True)
class TaskRun:
    """One task run in one mode."""

    result: RunResult
    attempts: list[AttemptRecord]

    @property
    def passed(self) -> bool:
        return self.result.status == "approved"


def _ref(tier: str, role: str) -> str:
    return REAL_LOCAL if tier == "real" else f"{tier}:bench-{role}"


def bench_config(tiers: dict[str, str]) -> OrchestrateConfig:
    """The packaged agents (their prompts and settings) on scripted `cloud:`/`local:` endpoints.

    `tiers` maps each role to `cloud`, `local` or `real` (the real local model).
    """
    base = load_config(None)
    agents = {}
    for role in ROLES:
        update: dict[str, object] = {
            "model": _ref(tiers[role], role),
            "fallbacks": [],
            "retries": 0,
        }
        if tiers[role] == "cloud":
            update["privacy"] = "cloud_ok"  # the all-cloud counterfactual sends everything out
        if tiers[role] == "real":
            update.update(temperature=0.0, max_tokens=512, num_ctx=8192, timeout=900.0)
        agents[role] = base.agents[role].model_copy(update=update)
    endpoints = {
        **base.endpoints,
        "cloud": EndpointConfig(kind="scripted", tier="cloud", concurrency=8),
        "local": EndpointConfig(kind="scripted", tier="local", concurrency=8),
    }
    cloud_price = base.prices[CLOUD_MODEL]
    prices = {**base.prices, **{_ref("cloud", role): cloud_price for role in ROLES}}
    return base.model_copy(
        update={
            "agents": agents,
            "endpoints": endpoints,
            "prices": prices,
            "reference_model": CLOUD_MODEL,
        }
    )


@contextlib.contextmanager
def _python_on_path() -> Iterator[None]:
    """Checks call `python`: make it this interpreter, whatever the caller's PATH holds."""
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), before])
    try:
        yield
    finally:
        os.environ["PATH"] = before


async def run_task(task: BenchTask, tiers: dict[str, str], run_id: str, **options: int) -> TaskRun:
    """Run one task through the engine in a fresh repo copy, with this mode's models."""
    scripted = ScriptedTask(task)
    names = {f"bench-{role}": model for role, model in scripted.models().items()}
    with tempfile.TemporaryDirectory() as tmp:
        repo = task.make_repo(Path(tmp) / "repo")
        config = bench_config(tiers)
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        router = Router(config, ledger, run_id=run_id)
        engine_options = EngineOptions(check_timeout=120, **options)
        # The scripted planner's checks are the benchmark's own: they run as a trusting user's.
        trusted = BatchPolicy((), trust_model_checks=True)
        engine = Engine(
            config, router, repo, events=EventBus(), options=engine_options, approve=trusted
        )
        for name, model in names.items():
            register_scripted(name, model)
        try:
            with _python_on_path():
                result = await engine.run(task.spec, run_id)
            return TaskRun(result, ledger.attempts(run_id))
        finally:
            for name in names:
                unregister_scripted(name)
            await router.aclose()
            ledger.close()


def _passes(runs: list[TaskRun]) -> str:
    if len(runs) == 1:
        return "ok" if runs[0].passed else "FAIL"
    return f"{sum(run.passed for run in runs)}/{len(runs)}"


def _row(name: str, clouds: list[TaskRun], hybrids: list[TaskRun]) -> list[object]:
    """One table row for these runs (one task's, or every task's for the total)."""
    cloud_usd = sum(run.result.cloud_usd for run in clouds)
    hybrid_usd = sum(run.result.cloud_usd for run in hybrids)
    return [
        name,
        sum(len(run.result.subtasks) for run in hybrids),
        f"{cloud_usd:.4f}",
        f"{hybrid_usd:.4f}",
        sum(run.result.local_tokens for run in hybrids),
        f"{1 - hybrid_usd / cloud_usd:.0%}" if cloud_usd else "-",
        f"{_passes(clouds)} / {_passes(hybrids)}",
    ]


async def measure(names: list[str] | None = None) -> Table:
    """Each task all-cloud then hybrid; per-task and total cost, local tokens, savings, passes."""
    table = Table(
        "Savings (SCRIPTED models, fixed token counts): all-cloud vs hybrid, per task",
        ["task", "subtasks", "all-cloud $", "hybrid $", "local tokens", "savings", "pass"],
    )
    clouds: list[TaskRun] = []
    hybrids: list[TaskRun] = []
    for task in load_suite(names):
        clouds.append(await run_task(task, ALL_CLOUD, f"cloud-{task.name}"))
        hybrids.append(await run_task(task, HYBRID, f"hybrid-{task.name}"))
        table.add(*_row(task.name, clouds[-1:], hybrids[-1:]))
    table.add(*_row("TOTAL", clouds, hybrids))
    table.notes += [
        "models are SCRIPTED: answers and token counts come from bench/tasks/<name>/script.yaml",
        f"cloud calls priced as {CLOUD_MODEL}; local tokens cost nothing",
        "pass = run approved with its task checks passing (all-cloud / hybrid)",
    ]
    return table


@dataclass(frozen=True)
class _RealFigures:
    subtasks: int
    passed: int
    tokens: int
    seconds: float

    def cells(self, name: str) -> list[object]:
        rate = f"{self.tokens / self.seconds:.1f}" if self.seconds else "-"
        return [name, self.subtasks, self.passed, self.tokens, f"{self.seconds:.1f}", rate]


def _real_figures(run: TaskRun) -> _RealFigures:
    local = [a for a in run.attempts if a.model == REAL_LOCAL and a.outcome == "ok"]
    return _RealFigures(
        subtasks=len(run.result.subtasks),
        passed=sum(result.status == "done" for result in run.result.subtasks),
        tokens=sum(a.output_tokens for a in local),
        seconds=sum(a.latency_s for a in local),
    )


async def measure_real(names: list[str] | None = None) -> Table:
    """The suite's worker subtasks on the real local model; planner and reviewer scripted."""
    tiers = {**HYBRID, **dict.fromkeys(WORKER_ROLES, "real")}
    table = Table(
        f"Real local model {REAL_LOCAL} on the suite's worker subtasks (planner/reviewer scripted)",
        ["task", "subtasks", "passed", "output tokens", "generating s", "tok/s"],
    )
    figures: list[_RealFigures] = []
    for task in load_suite(names):
        # One reply per subtask: the figure is how often the model gets it right first time.
        run = await run_task(task, tiers, f"real-{task.name}", max_fix_rounds=1, concurrency=1)
        figures.append(_real_figures(run))
        table.add(*figures[-1].cells(task.name))
    total = _RealFigures(
        subtasks=sum(f.subtasks for f in figures),
        passed=sum(f.passed for f in figures),
        tokens=sum(f.tokens for f in figures),
        seconds=sum(f.seconds for f in figures),
    )
    table.add(*total.cells("TOTAL"))
    table.notes += [
        f"real pass rate: {total.passed}/{total.subtasks} subtasks, one reply each, greedy",
        "a subtask whose dependency failed is skipped and counts as not passed",
        "tok/s = output tokens / wall time of the calls (prompt reading included)",
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", help="run only this task (repeatable)")
    parser.add_argument("--real", action="store_true", help=f"workers on the real {REAL_LOCAL}")
    args = parser.parse_args()
    if args.real:
        show(asyncio.run(measure_real(args.task)))
    else:
        show(asyncio.run(measure(args.task)))


if __name__ == "__main__":
    main()
