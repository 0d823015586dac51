"""Router overhead: the same streamed call through the router and SQLite ledger, and made directly.

Both sides talk to one zero-latency loopback OpenAI-compatible server in the same process and send
the same request (`stream=True`, usage included), alternating call by call so drift hits both.
Goal: under 1 ms added per call at p50.

    uv run python bench/overhead.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import openai
from _common import Table, percentile, show

from orchestrate.config.schema import AgentConfig, EndpointConfig, OrchestrateConfig
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.routing.router import Router
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

MODEL = "bench-model"
SYSTEM = "You write code."
PROMPT = "Write a function that adds two numbers."
ANSWER = "def add(a, b):\n    return a + b\n"
GOAL_MS = 1.0
WARMUP = 20


def _config(base_url: str) -> OrchestrateConfig:
    agent = AgentConfig(name="coder", model=f"loop:{MODEL}", system_prompt=SYSTEM, retries=0)
    endpoint = EndpointConfig(kind="openai", tier="local", base_url=base_url, concurrency=1)
    return OrchestrateConfig(
        agents={agent.name: agent},
        endpoints={"loop": endpoint},
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )


async def _direct(client: openai.AsyncOpenAI, max_tokens: int) -> str:
    """The baseline: the request our OpenAI backend sends for a local endpoint, read to the end."""
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=max_tokens,
    )
    parts: list[str] = []
    async with stream:
        async for chunk in stream:
            parts.extend(c.delta.content or "" for c in chunk.choices)
    return "".join(parts)


async def _timed_ms(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(calls: int = 1000, warmup: int = WARMUP) -> Table:
    """Time `calls` router calls and `calls` direct SDK calls, interleaved, after `warmup` each."""
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.default = Reply(text=ANSWER)
        config = _config(fake.base_url)
        agent = config.agents["coder"]
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        router = Router(config, ledger, run_id="bench")
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="no-key", max_retries=0)
        request = ModelRequest(
            system=SYSTEM,
            messages=(Message(role="user", content=PROMPT),),
            settings=agent.settings(),
        )
        direct_ms: list[float] = []
        routed_ms: list[float] = []
        try:
            for index in range(warmup + calls):
                # Alternate which side goes first, so neither always follows the other.
                sides: list[tuple[list[float], Callable[[], Awaitable[object]]]] = [
                    (direct_ms, lambda: _direct(client, agent.max_tokens)),
                    (routed_ms, lambda: router.complete(agent, request)),
                ]
                for samples, call in sides if index % 2 else reversed(sides):
                    elapsed = await _timed_ms(call)
                    if index >= warmup:
                        samples.append(elapsed)
        finally:
            await client.close()
            await router.aclose()
            rows = len(ledger.attempts("bench"))
            ledger.close()
    return _table(direct_ms, routed_ms, rows)


def _table(direct_ms: list[float], routed_ms: list[float], ledger_rows: int) -> Table:
    table = Table(
        f"Router overhead: {len(routed_ms)} streamed calls each, loopback server, SQLite ledger",
        ["", "p50 ms", "p99 ms", "mean ms"],
    )
    stats = {}
    for name, samples in (("direct openai SDK", direct_ms), ("router + ledger", routed_ms)):
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        stats[name] = (p50, p99)
        table.add(name, f"{p50:.3f}", f"{p99:.3f}", f"{sum(samples) / len(samples):.3f}")
    (d50, d99), (r50, r99) = stats["direct openai SDK"], stats["router + ledger"]
    mean_added = (sum(routed_ms) - sum(direct_ms)) / len(routed_ms)
    table.add("added", f"{r50 - d50:.3f}", f"{r99 - d99:.3f}", f"{mean_added:.3f}")
    table.add("ratio router/direct", f"{r50 / d50:.2f}x", f"{r99 / d99:.2f}x", "")
    verdict = "met" if r50 - d50 < GOAL_MS else "NOT met"
    table.notes.append(f"goal: under {GOAL_MS:g} ms added at p50: {verdict}")
    table.notes.append(f"ledger rows written by the router: {ledger_rows}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls per side")
    args = parser.parse_args()
    show(asyncio.run(measure(args.calls)))


if __name__ == "__main__":
    main()
