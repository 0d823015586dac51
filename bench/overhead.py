"""Router overhead: the same streamed call through the router and SQLite ledger, and made directly.

Both sides talk to one zero-latency loopback OpenAI-compatible server running in a process of its
own, and send the same request (`stream=True`, usage included). Calls go in pairs, one per side,
the side going first alternating; the overhead is each pair's difference (router minus direct),
so a stretch of machine load slows both halves of a pair and cancels out. Each call's CPU time
(`time.process_time`: this process, every thread, so the privacy scan's worker thread too; the
server is another process) is paired the same way: on a shared machine, wall time stretches
with the load while the added CPU time is the work the router adds. Scenarios:

- a short prompt repeated, on a local model (what every call pays);
- fresh prompts of 20 KB and 60 KB (each pair a new slice of Python's standard library, checked
  to hold nothing private, so nothing is cached) on the default
  chain shape, a local model first and a cloud model as fallback: the local model answers, and
  the privacy scan, needed only before a cloud model, must not run;
- the same fresh prompts on a cloud-first chain: the scan runs (in a worker thread) before the
  cloud model is sent anything.

Goals: under 1 ms added at p50 for the short prompt and at 20 KB local-first; under 5 ms at 20 KB
cloud-first.

    uv run python bench/overhead.py [--calls 1000] [--fresh-calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import sysconfig
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import openai
from _common import Table, load_average, percentile, serve_until_told, server_process, show

from orchestrate.config.schema import AgentConfig, EndpointConfig, OrchestrateConfig, PriceEntry
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.privacy.guard import PrivacyGuard
from orchestrate.routing.router import Router
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

MODEL = "bench-model"
SYSTEM = "You write code."
PROMPT = "Write a function that adds two numbers."
ANSWER = "def add(a, b):\n    return a + b\n"
WARMUP = 20
KEY_ENV = "ORCHESTRATE_BENCH_KEY"
"""The stand-in cloud endpoint's key variable (a cloud endpoint needs one; the fake ignores it)."""
LOCAL, CLOUD = f"loop:{MODEL}", f"cloudloop:{MODEL}"
SHAPES = {"local first, cloud fallback": [LOCAL, CLOUD], "cloud first": [CLOUD]}
GOALS_MS = {
    "short prompt, local": 1.0,
    "20 KB fresh, local first, cloud fallback": 1.0,
    "20 KB fresh, cloud first": 5.0,
}


def _serve(pipe: Connection) -> None:
    """Child process: answer every call at once, until the parent says stop."""
    with FakeOpenAI() as fake:
        fake.default = Reply(text=ANSWER)
        serve_until_told(pipe, fake.base_url)


def _config(base_url: str) -> OrchestrateConfig:
    # A window the 60 KB prompts fit, so the local model is asked (not passed over as too small).
    agent = AgentConfig(name="coder", model=LOCAL, system_prompt=SYSTEM, retries=0, num_ctx=65536)
    local = EndpointConfig(kind="openai", tier="local", base_url=base_url, concurrency=1)
    # A cloud endpoint on the same wire protocol (chat completions), so the direct call is the same.
    cloud = EndpointConfig(
        kind="openai", tier="cloud", base_url=base_url, api="chat", api_key_env=KEY_ENV
    )
    prices = {**packaged_prices().prices, CLOUD: PriceEntry(input=2.0, output=10.0)}
    return OrchestrateConfig(
        agents={agent.name: agent},
        endpoints={"loop": local, "cloudloop": cloud},
        prices=prices,
        reference_model="anthropic:claude-sonnet-5-5",
    )


def _stdlib_code() -> str:
    """Python's own standard library, as one long text: real code, of every style."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts = [path.read_text("utf-8", "replace") for path in sorted(root.glob("*.py"))]
    return "\n".join(parts)


def fresh_text(size: int, rng: random.Random, code: str) -> str:
    """`size` characters of real code from a random place in `code`, starting at a line."""
    start = code.find("\n", rng.randrange(max(1, len(code) - size))) + 1
    return code[start : start + size]


def _fresh_prompts(count: int, kb: int, seed: int, code: str) -> list[str]:
    """`count` distinct texts of `kb` KB, each checked not private (a private one would not be
    sent to the cloud model at all). Each gets a line of its own after the check, so the text
    sent is new to the scanner's cache."""
    rng = random.Random(seed)
    guard = PrivacyGuard()
    prompts: list[str] = []
    while len(prompts) < count:
        text = fresh_text(kb * 1024, rng, code)
        request = ModelRequest(messages=(Message(role="user", content=text),))
        if not guard.inspect(request).private:
            prompts.append(f"{text}\n# call {len(prompts)}\n")
    return prompts


async def _direct(client: openai.AsyncOpenAI, prompt: str, max_tokens: int) -> str:
    """The baseline: the request our OpenAI backend sends for a local endpoint, read to the end."""
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=max_tokens,
    )
    parts: list[str] = []
    async with stream:
        async for chunk in stream:
            parts.extend(c.delta.content or "" for c in chunk.choices)
    return "".join(parts)


async def _timed_ms(call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    await call()
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


@dataclass
class _Side:
    """One side's per-call wall and CPU times, in milliseconds."""

    wall: list[float]
    cpu: list[float]


@dataclass
class _Pairs:
    """Per-call times of both sides, pair by pair."""

    direct: _Side
    routed: _Side

    @property
    def added(self) -> list[float]:
        return [r - d for d, r in zip(self.direct.wall, self.routed.wall, strict=True)]

    @property
    def added_cpu(self) -> list[float]:
        return [r - d for d, r in zip(self.direct.cpu, self.routed.cpu, strict=True)]


class _Bench:
    """One router and one plain SDK client against the same server."""

    def __init__(self, base_url: str, ledger: Ledger) -> None:
        self.config = _config(base_url)
        self.router = Router(self.config, ledger, run_id="bench")
        self.client = openai.AsyncOpenAI(base_url=base_url, api_key="no-key", max_retries=0)

    async def pairs(self, chain: list[str], prompts: list[str], warmup: int) -> _Pairs:
        """Time each prompt through the router (on `chain`) and directly, alternating who leads."""
        base = self.config.agents["coder"]
        agent = base.model_copy(update={"model": chain[0], "fallbacks": chain[1:]})
        done = _Pairs(_Side([], []), _Side([], []))
        for index, prompt in enumerate(prompts):
            request = ModelRequest(
                system=SYSTEM,
                messages=(Message(role="user", content=prompt),),
                settings=agent.settings(),
            )
            sides: list[tuple[_Side, Callable[[], Awaitable[object]]]] = [
                (done.direct, functools.partial(_direct, self.client, prompt, agent.max_tokens)),
                (done.routed, functools.partial(self.router.complete, agent, request)),
            ]
            timed = [(side, await _timed_ms(call)) for side, call in _turns(sides, index)]
            if index >= warmup:
                for side, (wall, cpu) in timed:
                    side.wall.append(wall)
                    side.cpu.append(cpu)
        return done

    async def aclose(self) -> None:
        await self.client.close()
        await self.router.aclose()


def _turns(
    sides: list[tuple[_Side, Callable[[], Awaitable[object]]]], index: int
) -> list[tuple[_Side, Callable[[], Awaitable[object]]]]:
    """Which side goes first alternates, so neither always follows the other."""
    return sides if index % 2 else list(reversed(sides))


async def measure(
    calls: int = 1000,
    warmup: int = WARMUP,
    fresh_calls: int = 200,
    sizes: tuple[int, ...] = (20, 60),
) -> Table:
    """Every scenario's pairs: `calls` short ones after `warmup`, `fresh_calls` per fresh row."""
    table = Table(
        "Router overhead: streamed calls through Router + SQLite ledger vs the openai SDK, "
        "loopback server in its own process, paired per call",
        [
            "scenario",
            "pairs",
            "direct p50 ms",
            "router p50 ms",
            "added p50 ms",
            "added p99 ms",
            "added CPU p50 ms",
            "goal",
            "load",
        ],
    )
    os.environ.setdefault(KEY_ENV, "bench-key")
    with server_process(_serve) as base_url, tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        bench = _Bench(base_url, ledger)
        code = _stdlib_code()
        try:
            short = await bench.pairs([LOCAL], [PROMPT] * (warmup + calls), warmup)
            _row(table, "short prompt, local", short)
            for kb in sizes:
                for number, (shape, chain) in enumerate(SHAPES.items()):
                    # Texts of their own: one shape must not warm the scanner's cache for another.
                    prompts = _fresh_prompts(fresh_calls + 1, kb, kb * 10 + number, code)
                    # One warm-up pair (connections, first import of the scanner) is not counted.
                    _row(table, f"{kb} KB fresh, {shape}", await bench.pairs(chain, prompts, 1))
        finally:
            await bench.aclose()
            rows = len(ledger.attempts("bench"))
            ledger.close()
    table.notes += [
        "added = router minus direct, pair by pair (the same prompt, one right after the other)",
        "added CPU = the same difference in this process's CPU time (all its threads): the "
        "router's own work, which machine load stretches in wall time but not here",
        "fresh: every pair sends a new text, so the privacy scanner's cache never helps",
        f"ledger rows written by the router: {rows}",
    ]
    return table


def _row(table: Table, scenario: str, pairs: _Pairs) -> None:
    added = pairs.added
    p50, cpu_p50 = percentile(added, 50), percentile(pairs.added_cpu, 50)
    goal = GOALS_MS.get(scenario)
    verdict = "-"
    if goal is not None:
        verdict = f"< {goal:g} ms: wall {_met(p50, goal)}, CPU {_met(cpu_p50, goal)}"
    table.add(
        scenario,
        len(added),
        f"{percentile(pairs.direct.wall, 50):.3f}",
        f"{percentile(pairs.routed.wall, 50):.3f}",
        f"{p50:.3f}",
        f"{percentile(added, 99):.3f}",
        f"{cpu_p50:.3f}",
        verdict,
        load_average(),
    )


def _met(value: float, goal: float) -> str:
    return "met" if value < goal else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="short-prompt pairs")
    parser.add_argument("--fresh-calls", type=int, default=200, help="pairs per fresh-prompt row")
    args = parser.parse_args()
    show(asyncio.run(measure(args.calls, fresh_calls=args.fresh_calls)))


if __name__ == "__main__":
    main()
