"""Savings: the reference suite through the engine, hybrid against two all-cloud baselines.

Every task of `bench/tasks/` runs through the real engine (plan, workers, checks, review, git
worktree, router, ledger) once per mode: every agent on the frontier model (`claude-sonnet-5-5`),
a frontier planner and reviewer with cheap cloud workers (`claude-haiku-5-5`), and the hybrid
defaults (frontier planner and reviewer, local workers), each with the planner asked for every
task (as before) and with tasks that name their files and checks run as written (now). Costs are
the engine's own ledger at today's packaged prices.

What is measured and what is scripted: the models are SCRIPTED. Their answers (plans, files,
reviews) and the size of each answer (output tokens) come from `bench/tasks/<name>/script.yaml`.
Input tokens are the prompts the engine really sends, counted by the packaged gemma3-270m's
tokenizer through llama.cpp: a PROXY for the vendors' own tokenizers (`bench/_prompt_tokens.py`).

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

from _common import Table, load_average, show
from _prompt_tokens import TOKENIZER, prompt_counter
from _suite import ROLES, WORKER_ROLES, BenchTask, ScriptedTask, load_suite

from orchestrate.config.loader import load_config
from orchestrate.config.schema import EndpointConfig, OrchestrateConfig
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.result import RunResult
from orchestrate.events import EventBus
from orchestrate.ledger.store import AttemptRecord, Ledger
from orchestrate.models.base import Model
from orchestrate.models.scripted import register_scripted, unregister_scripted
from orchestrate.routing.router import Router

CLOUD_MODEL = "anthropic:claude-sonnet-5-5"
"""The frontier model: scripted `cloud:` calls are priced as it (also the savings reference)."""
CHEAP_MODEL = "anthropic:claude-haiku-5-5"
"""The cheap cloud model: scripted `cheap:` calls are priced as it."""
REAL_LOCAL = "llamacpp:gemma3-270m"
ALL_CLOUD = dict.fromkeys(ROLES, "cloud")
CHEAP_WORKERS = {"planner": "cloud", "reviewer": "cloud", **dict.fromkeys(WORKER_ROLES, "cheap")}
HYBRID = {"planner": "cloud", "reviewer": "cloud", **dict.fromkeys(WORKER_ROLES, "local")}
MODES = {
    "all-frontier": ALL_CLOUD,
    "frontier + haiku workers": CHEAP_WORKERS,
    "hybrid": HYBRID,
}
"""The three ways the suite is priced: (a), (b) and ours."""


@dataclass(frozen=True)
class TaskRun:
    """One task run in one mode."""

    result: RunResult
    attempts: list[AttemptRecord]
    name: str = ""
    """The task's directory name under bench/tasks/."""

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
        if tiers[role] in ("cloud", "cheap"):
            update["privacy"] = "cloud_ok"  # the all-cloud counterfactual sends everything out
        if tiers[role] == "real":
            update.update(temperature=0.0, max_tokens=512, num_ctx=8192, timeout=900.0)
        agents[role] = base.agents[role].model_copy(update=update)
    endpoints = {
        **base.endpoints,
        "cloud": EndpointConfig(kind="scripted", tier="cloud", concurrency=8),
        "cheap": EndpointConfig(kind="scripted", tier="cloud", concurrency=8),
        "local": EndpointConfig(kind="scripted", tier="local", concurrency=8),
    }
    prices = dict(base.prices)
    for tier, model in (("cloud", CLOUD_MODEL), ("cheap", CHEAP_MODEL)):
        prices |= {_ref(tier, role): base.prices[model] for role in ROLES}
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


async def run_task(
    task: BenchTask,
    tiers: dict[str, str],
    run_id: str,
    counter: Model | None = None,
    **options: int | bool,
) -> TaskRun:
    """Run one task through the engine in a fresh repo copy, with this mode's models (each
    reporting its prompt's real token count when a `counter` is given)."""
    scripted = ScriptedTask(task)
    names = {f"bench-{role}": model for role, model in scripted.models(counter).items()}
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
            return TaskRun(result, ledger.attempts(run_id), task.name)
        finally:
            for name in names:
                unregister_scripted(name)
            await router.aclose()
            ledger.close()


def _passes(runs: list[TaskRun]) -> str:
    return f"{sum(run.passed for run in runs)}/{len(runs)}"


def _usd(runs: list[TaskRun]) -> float:
    return sum(run.result.cloud_usd for run in runs)


def _cloud_input(runs: list[TaskRun]) -> int:
    return sum(a.input_tokens for run in runs for a in run.attempts if a.tier == "cloud")


def _ratio(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "-"


async def run_modes(
    names: list[str] | None = None, *, always_plan: tuple[bool, ...] = (True, False)
) -> dict[tuple[str, bool], list[TaskRun]]:
    """Every task in every mode, with the planner always asked and/or tasks run as written."""
    counter = prompt_counter()
    runs: dict[tuple[str, bool], list[TaskRun]] = {}
    for task in load_suite(names):
        for planned in always_plan:
            for mode, tiers in MODES.items():
                run_id = f"{mode.split()[0]}-{'planned' if planned else 'as-written'}-{task.name}"
                run = await run_task(task, tiers, run_id, counter, always_plan=planned)
                runs.setdefault((mode, planned), []).append(run)
    return runs


def lever_table(runs: dict[tuple[str, bool], list[TaskRun]]) -> Table:
    """Totals per mode and planning lever, against all-frontier with the planner asked."""
    table = Table(
        "Savings by mode and lever (SCRIPTED answers, real prompts counted): suite totals",
        ["mode", "planner", "cloud $", "vs all-frontier", "cloud input tok", "pass", "load"],
    )
    reference = _usd(runs.get(("all-frontier", True), runs[("all-frontier", False)]))
    for (mode, planned), done in runs.items():
        table.add(
            mode,
            "asked for every task" if planned else "not for tasks naming files+checks",
            f"{_usd(done):.4f}",
            _ratio(_usd(done), reference),
            _cloud_input(done),
            _passes(done),
            load_average(),
        )
    table.notes += _notes()
    return table


def task_table(runs: dict[tuple[str, bool], list[TaskRun]], planned: bool) -> Table:
    """Per task and in total: hybrid cloud spend against (a) and (b), with pass rates."""
    frontier, cheap, hybrid = (runs[(mode, planned)] for mode in MODES)
    table = Table(
        "Savings per task (SCRIPTED answers, real prompts counted): hybrid vs (a) all-frontier "
        "and (b) frontier + haiku workers",
        ["task", "(a) $", "(b) $", "hybrid $", "hybrid/(a)", "hybrid/(b)", "pass a/b/h"],
    )
    rows = [(h.name, [f], [c], [h]) for f, c, h in zip(frontier, cheap, hybrid, strict=True)]
    for name, a, b, h in [*rows, ("TOTAL", frontier, cheap, hybrid)]:
        table.add(
            name,
            f"{_usd(a):.4f}",
            f"{_usd(b):.4f}",
            f"{_usd(h):.4f}",
            _ratio(_usd(h), _usd(a)),
            _ratio(_usd(h), _usd(b)),
            " ".join(_passes(x) for x in (a, b, h)),
        )
    table.notes += _notes()
    return table


def _notes() -> list[str]:
    return [
        "SCRIPTED: the answers and their sizes (output tokens) come from bench/tasks/*/script.yaml",
        f"measured: input tokens of the prompts the engine sent, counted by {TOKENIZER}'s "
        "tokenizer (a proxy for the vendors' own)",
        f"priced by the engine's ledger: frontier = {CLOUD_MODEL}, cheap = {CHEAP_MODEL}, "
        "local tokens free; no prompt cache is counted (scripted calls report none)",
        "pass = run approved with its task checks passing",
    ]


async def measure(names: list[str] | None = None) -> Table:
    """The per-task table, the engine as it runs by default (tasks naming files+checks as written)."""
    return task_table(await run_modes(names, always_plan=(False,)), planned=False)


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
        return
    runs = asyncio.run(run_modes(args.task))
    show(lever_table(runs))
    for planned in (True, False):
        show(task_table(runs, planned))


if __name__ == "__main__":
    main()
