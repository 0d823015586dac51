"""Parallel efficiency: independent subtasks against a loopback local endpoint of fixed latency.

Each subtask is one model call answered after `--latency` seconds by a threaded fake
OpenAI-compatible server in a process of its own (as a real local server is, so its threads do
not compete with the client for the GIL). At concurrency N the ideal wall time is total latency / N; efficiency is
ideal / measured. Two drivers: the router alone (the endpoint's `concurrency` set to N, all calls
gathered at once), and the engine's scheduler (`engine.scheduler.run_batch` with N slots, one
router call per subtask). Goal: 90% of ideal or better at concurrency 8.

With `--check-s S`, whole engine runs instead (`Engine.run` with a given plan: real git
worktrees, real check commands, the worker model behind the fake server): every subtask edits
its own file and its check takes S seconds, so the ideal is subtasks x (latency + S) / N. Before:
checks one at a time, as when every check held the run's one worktree (each check holds one
`flock`); after: checks side by side, each subtask in its own lane (`engine/lanes.py`).

    uv run python bench/parallel.py [--subtasks 64] [--latency 0.1]
    uv run python bench/parallel.py --check-s 2 --latency 5 --subtasks 16 --levels 8
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import openai
from _common import Table, load_average, median, serve_until_told, server_process, show
from _engine_checks import MODES, describe_check, serve_files, timed_run
from pydantic import BaseModel

from orchestrate.config.schema import AgentConfig, EndpointConfig, OrchestrateConfig
from orchestrate.engine.plan import Subtask
from orchestrate.engine.result import SubtaskResult
from orchestrate.engine.scheduler import run_batch
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.routing.routed import Routed
from orchestrate.routing.router import Router
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

CONCURRENCY = (1, 4, 8)
GOAL = 0.90


def _router(base_url: str, concurrency: int, ledger: Ledger) -> tuple[Router, AgentConfig]:
    agent = AgentConfig(name="coder", model="loop:bench", system_prompt="You code.", retries=0)
    endpoint = EndpointConfig(
        kind="openai", tier="local", base_url=base_url, concurrency=concurrency
    )
    config = OrchestrateConfig(
        agents={agent.name: agent},
        endpoints={"loop": endpoint},
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    return Router(config, ledger, run_id="bench"), agent


def _request(number: int) -> ModelRequest:
    return ModelRequest(messages=(Message(role="user", content=f"subtask {number}"),))


def _subtasks(count: int) -> list[Subtask]:
    # Distinct files and no dependencies: the scheduler may run every one at once.
    return [
        Subtask(id=f"s{n}", title=f"Subtask {n}", kind="code", spec="x", edit_files=[f"f{n}.py"])
        for n in range(count)
    ]


async def _router_gather(router: Router, agent: AgentConfig, count: int) -> None:
    await asyncio.gather(*(router.complete(agent, _request(n)) for n in range(count)))


async def _router_scheduler(router: Router, agent: AgentConfig, count: int, n: int) -> None:
    async def run_one(subtask: Subtask) -> SubtaskResult:
        routed: Routed[BaseModel] = await router.complete(agent, _request(int(subtask.id[1:])))
        return SubtaskResult(
            id=subtask.id,
            title=subtask.title,
            kind=subtask.kind,
            agent=agent.name,
            status="done",
            commit=None,
            model=routed.model_ref,
            rounds=1,
            detail="ok",
        )

    results = await run_batch(_subtasks(count), run_one, SubtaskResult.ended, concurrency=n)
    if not all(result.status == "done" for result in results):
        raise RuntimeError("a subtask failed; the fake server should answer every call")


async def _timed_router(
    base_url: str, ledger: Ledger, count: int, n: int, scheduler: bool
) -> float:
    # The router caps the endpoint at N, as a providers file would.
    router, agent = _router(base_url, n, ledger)
    try:
        # Open the N connections before timing, so the first wave measures calls, not connects.
        await _router_gather(router, agent, n)
        started = time.perf_counter()
        if scheduler:
            await _router_scheduler(router, agent, count, n)
        else:
            await _router_gather(router, agent, count)
        return time.perf_counter() - started
    finally:
        await router.aclose()


async def _timed_direct(base_url: str, count: int, n: int) -> float:
    """The baseline: the same streamed calls made with the openai SDK, N at a time, no router."""
    limit = asyncio.Semaphore(n)
    async with openai.AsyncOpenAI(base_url=base_url, api_key="no-key", max_retries=0) as client:

        async def one(number: int) -> None:
            async with limit:
                stream = await client.chat.completions.create(
                    model="bench",
                    messages=[{"role": "user", "content": f"subtask {number}"}],
                    stream=True,
                    stream_options={"include_usage": True},
                    max_tokens=AgentConfig.model_fields["max_tokens"].default,
                )
                async with stream:
                    async for _ in stream:
                        pass

        await asyncio.gather(*(one(-1) for _ in range(n)))  # warm the connections, as above
        started = time.perf_counter()
        await asyncio.gather(*(one(number) for number in range(count)))
        return time.perf_counter() - started


DRIVERS = ("direct openai SDK", "router", "engine scheduler")


async def _timed(driver: str, base_url: str, ledger: Ledger, count: int, n: int) -> float:
    if driver == "direct openai SDK":
        return await _timed_direct(base_url, count, n)
    return await _timed_router(base_url, ledger, count, n, scheduler=driver == "engine scheduler")


def _serve(pipe: Connection, latency: float) -> None:
    """Child process: serve replies of `latency` s until the parent says stop."""
    with FakeOpenAI() as fake:
        fake.default = Reply(text="done", delay_s=latency)
        serve_until_told(pipe, fake.base_url)


async def measure(
    subtasks: int = 64,
    latency: float = 0.1,
    levels: tuple[int, ...] = CONCURRENCY,
    repeats: int = 3,
) -> Table:
    """Median wall time of `subtasks` calls of `latency` s at each concurrency, per driver."""
    table = Table(
        f"Parallel efficiency: {subtasks} subtasks x {latency * 1000:g} ms latency, loopback, "
        f"median of {repeats}",
        ["driver", "concurrency", "wall s", "ideal s", "efficiency", "vs direct", "load"],
    )
    with server_process(_serve, latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        try:
            for n in levels:
                walls: dict[str, list[float]] = {driver: [] for driver in DRIVERS}
                # Drivers take turns within each repeat, so drift hits all of them alike.
                for _ in range(repeats):
                    for driver in DRIVERS:
                        walls[driver].append(await _timed(driver, base_url, ledger, subtasks, n))
                ideal = subtasks * latency / n
                baseline = median(walls[DRIVERS[0]])
                for driver in DRIVERS:
                    wall = median(walls[driver])
                    table.add(
                        driver,
                        n,
                        f"{wall:.2f}",
                        f"{ideal:.2f}",
                        f"{ideal / wall:.0%}",
                        f"{wall / baseline:.2f}x",
                        load_average(),
                    )
        finally:
            ledger.close()
    top = max(levels)
    ours = [r for r in table.rows if r[1] == str(top) and r[0] != DRIVERS[0]]
    worst = min(float(r[4].rstrip("%")) / 100 for r in ours)
    verdict = "met" if worst >= GOAL else "NOT met"
    table.notes.append(f"goal: {GOAL:.0%} of ideal or better at concurrency {top}: {verdict}")
    table.notes.append(
        "engine scheduler = engine.scheduler.run_batch driving one router call per subtask"
    )
    return table


async def measure_checks(
    subtasks: int = 16,
    latency: float = 5.0,
    check_s: float = 2.0,
    levels: tuple[int, ...] = (8,),
    repeats: int = 1,
) -> Table:
    """Whole engine runs whose checks take `check_s` s: before (checks one at a time) and
    after (each subtask checked in its own lane), median wall time of `repeats` runs."""
    table = Table(
        f"Engine runs with checks: {subtasks} subtasks x ({latency:g} s model call + "
        f"{check_s:g} s check), median of {repeats}",
        ["mode", "concurrency", "wall s", "ideal s", "efficiency", "after vs before", "load"],
    )
    with server_process(serve_files, latency) as base_url:
        for n in levels:
            walls: dict[str, list[float]] = {mode: [] for mode in MODES}
            for _ in range(repeats):  # modes take turns, so drift hits both alike
                for mode in MODES:
                    serial = mode == MODES[0]
                    walls[mode].append(
                        await timed_run(base_url, subtasks, check_s, n, serial=serial)
                    )
            ideal = subtasks * (latency + check_s) / n
            before = median(walls[MODES[0]])
            for mode in MODES:
                wall = median(walls[mode])
                ratio = f"{before / wall:.2f}x faster" if mode != MODES[0] else "-"
                table.add(
                    mode,
                    n,
                    f"{wall:.2f}",
                    f"{ideal:.2f}",
                    f"{ideal / wall:.0%}",
                    ratio,
                    load_average(),
                )
    table.notes += [
        f"ideal = subtasks x (latency + check) / concurrency; {describe_check(check_s)}",
        "each run: Engine.run with a given plan (no planner), real git worktrees and commits, "
        "a scripted reviewer; the worker model is a fake server in its own process",
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subtasks", type=int, default=None, help="default 64 (16 with checks)")
    parser.add_argument("--latency", type=float, default=None, help="seconds per call")
    parser.add_argument("--repeats", type=int, default=None, help="runs per cell; median shown")
    parser.add_argument(
        "--check-s", type=float, default=0.0, help="seconds each check takes: whole engine runs"
    )
    parser.add_argument("--levels", type=int, nargs="+", default=None, help="concurrency levels")
    args = parser.parse_args()
    if args.check_s > 0:
        table = measure_checks(
            args.subtasks or 16,
            args.latency if args.latency is not None else 5.0,
            args.check_s,
            tuple(args.levels or (8,)),
            args.repeats or 1,
        )
    else:
        table = measure(
            args.subtasks or 64,
            args.latency if args.latency is not None else 0.1,
            tuple(args.levels or CONCURRENCY),
            args.repeats or 3,
        )
    show(asyncio.run(table))


if __name__ == "__main__":
    main()
