"""Savings: the reference suite through the engine, hybrid against two all-cloud baselines.

Every task of `bench/tasks/` runs through the real engine (plan, workers, checks, review, git
worktree, router, ledger) once per mode: every agent on the frontier model (`claude-sonnet-5-5`),
the quick reviewer too; a frontier planner and reviewer with cheap cloud workers
(`claude-haiku-5-5`); the hybrid defaults (frontier planner and reviewer, local workers); and
hybrid with `--full-review` (no quick review), to show that lever's own effect. Outside (a) the
quick reviewer keeps its default tier (cheap: Haiku). Each mode runs with the planner asked for
every task (as before) and with tasks that name their files and checks run as written (now).
The suite has 11 tiny tasks and real-size ones (real CPython modules of 350-2,054 lines,
`tasks/_projects/`); each mode runs its tasks one after another, as one user's session, sharing the prompt cache.
Costs are the engine's own ledger at today's packaged prices, cache writes and reads included.

What is measured and what is scripted: the models are SCRIPTED. Their answers (plans, edits,
reviews) come from `bench/tasks/<name>/script.yaml`, written in the edit format the engine asks
(`_answers.py`). The quick reviewer's answer is derived from each task's `reviewer: review`
(approve -> approve, request_changes -> escalate), so its approvals are scripted: whether a cheap
model would judge as well is NOT measured here, only what its cascade costs. It cannot change a
check verdict: it runs only on changes checks verified. Tokens are counted, not scripted: the
prompts the engine really sends (with the schema of a structured answer) and the answers' text,
by the packaged gemma3-270m's tokenizer through llama.cpp, a PROXY for the vendors' own
(`_prompt_tokens.py`); the prompt cache follows Anthropic's documented rules on the request body
our backend would send (`_prompt_cache.py`).

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
from _prompt_cache import PromptCache
from _prompt_tokens import TokenCounter, prompt_counter
from _savings_tables import Caches, Runs, TaskRun, cache_table, lever_table, task_table
from _suite import QUICK, ROLES, WORKER_ROLES, BenchTask, ScriptedTask, load_suite

from orchestrate.config.loader import load_config
from orchestrate.config.schema import EndpointConfig, OrchestrateConfig
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.events import EventBus
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import register_scripted, unregister_scripted
from orchestrate.routing.router import Router

CLOUD_MODEL = "anthropic:claude-sonnet-5-5"
"""The frontier model: scripted `cloud:` calls are priced as it (also the savings reference)."""
CHEAP_MODEL = "anthropic:claude-haiku-5-5"
"""The cheap cloud model: scripted `cheap:` calls are priced as it."""
REAL_LOCAL = "llamacpp:gemma3-270m"
FULL_REVIEW = "hybrid, full review"
"""Hybrid with `--full-review`: every review the full reviewer's, to show the quick review's effect."""
ALL_CLOUD = dict.fromkeys(ROLES, "cloud")
"""(a): every agent on the frontier model, the quick reviewer too."""
# The quick reviewer keeps its default tier (cheap: Haiku) in (b) and hybrid.
FRONTIER_REVIEW = {"planner": "cloud", "reviewer": "cloud", QUICK: "cheap"}
CHEAP_WORKERS = {**FRONTIER_REVIEW, **dict.fromkeys(WORKER_ROLES, "cheap")}
HYBRID = {**FRONTIER_REVIEW, **dict.fromkeys(WORKER_ROLES, "local")}
MODES = {
    "all-frontier": ALL_CLOUD,
    "frontier + haiku workers": CHEAP_WORKERS,
    "hybrid": HYBRID,
    FULL_REVIEW: HYBRID,
}
"""The ways the suite is priced: (a), (b), ours, and ours with the quick review off."""
COMPARED = ("all-frontier", "frontier + haiku workers", "hybrid")
"""The per-task table's three columns: (a), (b) and hybrid."""


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
            # Everything goes out, masked where the privacy scan flags it (CPython's shlex.py
            # holds strings it takes for secrets): a tool without the scan sends the same text.
            update["privacy"] = "redact"
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
    counter: TokenCounter | None = None,
    caches: dict[str, PromptCache] | None = None,
    **options: int | bool,
) -> TaskRun:
    """Run one task through the engine in a fresh repo copy, with this mode's models (each
    reporting real token counts when a `counter` is given, and cache writes and reads for the
    roles given a prompt cache in `caches`)."""
    scripted = ScriptedTask(task)
    models = scripted.models(counter, caches)
    names = {f"bench-{role}": model for role, model in models.items()}
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
            real = task.script.project is not None
            return TaskRun(result, ledger.attempts(run_id), task.name, real)
        finally:
            for name in names:
                unregister_scripted(name)
            await router.aclose()
            ledger.close()


async def run_modes(
    names: list[str] | None = None,
    *,
    always_plan: tuple[bool, ...] = (True, False),
    caches: Caches | None = None,
) -> Runs:
    """Every task in every mode, with the planner always asked and/or tasks run as written.

    Each (mode, planner) pair is one session: its tasks run one after another, as one user's
    would, sharing each cloud model's prompt cache (kept in `caches` when given)."""
    counter = prompt_counter()
    suite = load_suite(names)
    runs: Runs = {}
    for mode, tiers in MODES.items():
        for planned in always_plan:
            session = _session_caches(tiers)
            if caches is not None:
                caches[(mode, planned)] = session
            for task in suite:
                short = "hybrid-full-review" if mode == FULL_REVIEW else mode.split()[0]
                run_id = f"{short}-{'planned' if planned else 'as-written'}-{task.name}"
                caches_by_role = {
                    role: session[_model_name(tier)]
                    for role, tier in tiers.items()
                    if tier in ("cloud", "cheap")
                }
                run = await run_task(
                    task,
                    tiers,
                    run_id,
                    counter,
                    caches_by_role,
                    always_plan=planned,
                    full_review=mode == FULL_REVIEW,
                )
                runs.setdefault((mode, planned), []).append(run)
    return runs


def _model_name(tier: str) -> str:
    return (CLOUD_MODEL if tier == "cloud" else CHEAP_MODEL).split(":", 1)[1]


def _session_caches(tiers: dict[str, str]) -> dict[str, PromptCache]:
    """One prompt cache per cloud model the mode uses (the planner and reviewer share one)."""
    used = {_model_name(tier) for tier in tiers.values() if tier in ("cloud", "cheap")}
    return {model: PromptCache(model) for model in sorted(used)}


def pricer() -> Pricer:
    """The benchmark's prices (scripted cloud models at their real model's price)."""
    return Pricer.from_config(bench_config(ALL_CLOUD))


async def measure(names: list[str] | None = None) -> Table:
    """The per-task table, the engine as it runs by default (tasks naming files+checks as written)."""
    runs = await run_modes(names, always_plan=(False,))
    return task_table(runs, False, COMPARED)


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
    caches: Caches = {}
    runs = asyncio.run(run_modes(args.task, caches=caches))
    show(lever_table(runs, pricer()))
    show(cache_table(runs, caches))
    for planned in (True, False):
        show(task_table(runs, planned, COMPARED))


if __name__ == "__main__":
    main()
