"""Parallel efficiency: 64 independent subtasks against a loopback local endpoint of fixed latency.

Each subtask is one model call answered after `--latency` seconds by a threaded fake
OpenAI-compatible server in a process of its own (as a real local server is, so its threads do
not compete with the client for the GIL). At concurrency N the ideal wall time is total latency / N; efficiency is
ideal / measured. Two drivers: the router alone (the endpoint's `concurrency` set to N, all calls
gathered at once), and the engine's scheduler (`engine.scheduler.run_batch` with N slots, one
router call per subtask). Goal: 90% of ideal or better at concurrency 8.

    uv run python bench/parallel.py [--subtasks 64] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

import openai
from _common import Table, median, show
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

    results = await run_batch(_subtasks(count), run_one, SubtaskResult.skipped, concurrency=n)
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


def _serve(latency: float, pipe: Connection) -> None:
    """Child process: serve replies of `latency` s until the parent says stop."""
    with FakeOpenAI() as fake:
        fake.default = Reply(text="done", delay_s=latency)
        pipe.send(fake.base_url)
        pipe.recv()


@contextmanager
def _server_process(latency: float) -> Iterator[str]:
    """The base URL of a fake OpenAI-compatible server running in another process."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(target=_serve, args=(latency, theirs))
    child.start()
    try:
        yield str(ours.recv())
    finally:
        ours.send("stop")
        child.join(timeout=10)


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
        ["driver", "concurrency", "wall s", "ideal s", "efficiency", "vs direct"],
    )
    with _server_process(latency) as base_url, tempfile.TemporaryDirectory() as tmp:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subtasks", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per call")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell; median shown")
    args = parser.parse_args()
    show(asyncio.run(measure(args.subtasks, args.latency, repeats=args.repeats)))


if __name__ == "__main__":
    main()
