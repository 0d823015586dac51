"""Throughput of a pooled endpoint (`hosts:`) as hosts are added: 1, 2 and 3 loopback hosts of
fixed per-request latency and concurrency 1, all calls gathered at once through the Router.

The hosts are threaded fake OpenAI-compatible servers in a process of their own (as real servers
are, so their threads do not compete with the client for the GIL). With k hosts the ideal wall
time is calls x latency / k; efficiency is ideal / measured. The baseline, measured in the same
run, is the same calls to one server named by `base_url` (no pool): the pool of one host should
cost nothing over it. Goal: throughput rising with hosts, at 90% of ideal or better.

    uv run python bench/pool.py [--calls 30] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from _common import Table, median, show

from orchestrate.config.schema import (
    AgentConfig,
    EndpointConfig,
    HostConfig,
    OrchestrateConfig,
)
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.routing.router import Router
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

HOSTS = (1, 2, 3)
GOAL = 0.90


def _serve(latency: float, count: int, pipe: Connection) -> None:
    """Child process: `count` servers answering after `latency` s, until the parent says stop."""
    with ExitStack() as stack:
        fakes = [stack.enter_context(FakeOpenAI()) for _ in range(count)]
        for fake in fakes:
            fake.default = Reply(text="done", delay_s=latency)
        pipe.send([fake.base_url for fake in fakes])
        pipe.recv()


@contextmanager
def _servers(latency: float, count: int) -> Iterator[list[str]]:
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(latency, count, theirs)
    )
    child.start()
    try:
        yield list(ours.recv())
    finally:
        ours.send("stop")
        child.join(timeout=10)


def _router(endpoint: EndpointConfig, ledger: Ledger) -> tuple[Router, AgentConfig]:
    agent = AgentConfig(name="coder", model="loop:bench", system_prompt="You code.", retries=0)
    config = OrchestrateConfig(
        agents={agent.name: agent},
        endpoints={"loop": endpoint},
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    return Router(config, ledger, run_id="bench"), agent


def _request(number: int) -> ModelRequest:
    # Each call its own conversation: no affinity keeps it on one host.
    return ModelRequest(messages=(Message(role="user", content=f"call {number}"),))


async def _timed(endpoint: EndpointConfig, ledger: Ledger, calls: int) -> float:
    router, agent = _router(endpoint, ledger)
    try:
        warm = endpoint.concurrency  # open the connections before timing, as bench/parallel does
        await asyncio.gather(*(router.complete(agent, _request(-n)) for n in range(1, warm + 1)))
        started = time.perf_counter()
        await asyncio.gather(*(router.complete(agent, _request(n)) for n in range(calls)))
        return time.perf_counter() - started
    finally:
        await router.aclose()


def _pool(urls: list[str]) -> EndpointConfig:
    hosts = tuple(HostConfig(url=url, concurrency=1) for url in urls)
    return EndpointConfig(kind="openai", tier="local", hosts=hosts)


async def measure(
    calls: int = 30, latency: float = 0.1, levels: tuple[int, ...] = HOSTS, repeats: int = 3
) -> Table:
    """Median wall time of `calls` calls of `latency` s over 1..k hosts, and the baseline."""
    table = Table(
        f"Pooled endpoint: {calls} calls x {latency * 1000:g} ms latency, hosts of concurrency 1, "
        f"loopback, median of {repeats}",
        ["setup", "hosts", "wall s", "ideal s", "efficiency", "speed-up"],
    )
    with _servers(latency, max(levels)) as urls, tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        try:
            one = EndpointConfig(kind="openai", tier="local", base_url=urls[0], concurrency=1)
            setups = [("one server, no pool", 1, one)]
            setups += [(f"pool of {k}", k, _pool(urls[:k])) for k in levels]
            walls: dict[str, list[float]] = {name: [] for name, _, _ in setups}
            for _ in range(repeats):  # setups take turns, so drift hits all of them alike
                for name, _, endpoint in setups:
                    walls[name].append(await _timed(endpoint, ledger, calls))
        finally:
            ledger.close()
    baseline = median(walls[setups[0][0]])
    for name, k, _ in setups:
        wall = median(walls[name])
        ideal = calls * latency / k
        table.add(name, k, f"{wall:.2f}", f"{ideal:.2f}", f"{ideal / wall:.0%}",
                  f"{baseline / wall:.2f}x")  # fmt: skip
    pools = [row for row in table.rows if row[0].startswith("pool")]
    worst = min(float(row[4].rstrip("%")) / 100 for row in pools)
    rising = all(float(a[2]) > float(b[2]) for a, b in itertools.pairwise(pools))
    verdict = "met" if worst >= GOAL and rising else "NOT met"
    table.notes.append(f"goal: wall time falls with each host, {GOAL:.0%} of ideal: {verdict}")
    table.notes.append("speed-up = the one-server baseline's wall time / this setup's")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per call")
    parser.add_argument("--repeats", type=int, default=3, help="runs per setup; median shown")
    args = parser.parse_args()
    show(asyncio.run(measure(args.calls, args.latency, repeats=args.repeats)))


if __name__ == "__main__":
    main()
