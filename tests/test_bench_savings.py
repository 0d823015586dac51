"""The savings benchmark at real prompt sizes: real-code tasks, counted answers, the prompt cache.

Timings are never asserted; these prove that the real-size tasks run through the engine in every
mode, that workers answer in the edit format the engine asks, and that the scripted cloud model
accounts for Anthropic's prompt cache as its rules say (marked prefix, minimum, TTL).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from orchestrate.models.base import Message, ModelRequest, Usage

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The bench modules as `uv run python bench/savings.py` imports them."""
    monkeypatch.syspath_prepend(str(BENCH))
    before = set(sys.modules)
    yield importlib.import_module("savings")
    for name in set(sys.modules) - before:
        path = getattr(sys.modules[name], "__file__", None)
        if path is not None and Path(path).parent == BENCH:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def test_real_size_tasks_are_real_code_of_hundreds_to_thousands_of_lines(
    bench: ModuleType,
) -> None:
    suite = _module("_suite")

    real = [task for task in suite.load_suite() if task.script.project is not None]

    assert len(real) >= 3
    for task in real:
        assert (task.source / "ORIGIN.md").is_file() and (task.source / "LICENSE-PSF.txt").is_file()
        edited = {
            p for s in task.plan.subtasks for p in s.edit_files if (task.source / p).is_file()
        }
        lines = [len((task.source / p).read_text().splitlines()) for p in edited]
        assert not lines or max(lines) >= 300, task.name
    assert max(len((t.source / "textkit/difflib.py").read_text().splitlines()) for t in real) > 2000


async def test_real_size_tasks_pass_in_every_mode_and_share_the_planner_cache(
    bench: ModuleType,
) -> None:
    caches: dict[tuple[str, bool], dict[str, object]] = {}

    runs = await bench.run_modes(
        ["real-diff-range", "real-shlex-tests"], always_plan=(True,), caches=caches
    )

    for done in runs.values():
        assert [run.passed for run in done] == [True, True]
        assert all(run.real for run in done)
    # A 2,054-line file cannot come back whole within 8,192 output tokens: the coder is asked
    # for SEARCH/REPLACE blocks and its (counted) answer is a few hundred tokens, not ~25,000.
    coder = [a for a in runs[("all-frontier", True)][0].attempts if a.agent == "coder"]
    assert len(coder) == 1 and 0 < coder[0].output_tokens < 1000
    # One session per mode: the planner's marked prefix (repo map and plan rules, over the
    # 1,024-token minimum) is written by the first task and read back by the second.
    planner = [a for run in runs[("hybrid", True)] for a in run.attempts if a.agent == "planner"]
    assert planner[0].cache_write_tokens > 1024 and planner[0].cache_read_tokens == 0
    assert planner[1].cache_read_tokens == planner[0].cache_write_tokens
    sonnet = caches[("hybrid", True)]["claude-sonnet-5-5"]
    assert sonnet.read == planner[1].cache_read_tokens  # type: ignore[attr-defined]
    # Haiku's minimum (4,096) is above every marked prefix the workers send: nothing cached.
    haiku = caches[("frontier + haiku workers", True)]["claude-haiku-5-5"]
    assert haiku.written == haiku.read == 0  # type: ignore[attr-defined]
    assert haiku.short_calls == haiku.marked_calls > 0  # type: ignore[attr-defined]
    tables = _module("_savings_tables")
    hybrid = runs[("hybrid", True)]
    assert tables.usd(hybrid) < tables.uncached_usd(hybrid, bench.pricer())


def _request(system: str, user: str, schema: dict[str, object] | None = None) -> ModelRequest:
    return ModelRequest(
        system=system, messages=(Message(role="user", content=user),), output_schema=schema
    )


async def _words(text: str) -> int:
    return len(text.split())


async def test_prompt_cache_follows_the_documented_rules(bench: ModuleType) -> None:
    cache_module = _module("_prompt_cache")
    now = [0.0]
    cache = cache_module.PromptCache("claude-sonnet-5-5", clock=lambda: now[0])
    long_system = "rule " * 1500  # 1,500 counted tokens: over Sonnet's 1,024 minimum
    usage = Usage(input_tokens=1600, output_tokens=10)

    first = await cache.account(_request(long_system, "task one"), usage, _words)
    now[0] += 299  # within the 5-minute TTL
    second = await cache.account(_request(long_system, "task two"), usage, _words)
    now[0] += 301  # past it: the read at 299 s refreshed the entry, so it lives to 599 s
    third = await cache.account(_request(long_system, "task three"), usage, _words)
    short = await cache.account(_request("rule " * 500, "task"), usage, _words)
    schema: dict[str, object] = {"type": "object"}
    other_format = await cache.account(_request(long_system, "task", schema), usage, _words)

    assert (first.cache_write_tokens, first.cache_read_tokens, first.input_tokens) == (1500, 0, 100)
    assert (second.cache_write_tokens, second.cache_read_tokens) == (0, 1500)
    assert (third.cache_write_tokens, third.cache_read_tokens) == (1500, 0)
    assert (short.cache_write_tokens, short.cache_read_tokens, short.input_tokens) == (0, 0, 1600)
    # Another structured-output format is another cache entry.
    assert (other_format.cache_write_tokens, other_format.cache_read_tokens) == (1500, 0)
    assert cache.short_calls == 1 and cache.marked_calls == 5


async def test_prompt_cache_reads_the_marks_of_the_body_our_backend_sends(
    bench: ModuleType,
) -> None:
    cache_module = _module("_prompt_cache")
    cache = cache_module.PromptCache("claude-sonnet-5-5")
    marked = ModelRequest(
        messages=(
            Message(role="user", content="map " * 1200, cache=True),
            Message(role="user", content="the task"),
        )
    )
    unmarked = ModelRequest(messages=(Message(role="user", content="map " * 1200),))
    usage = Usage(input_tokens=1300)

    await cache.account(marked, usage, _words)
    read = await cache.account(marked, usage, _words)
    nothing = await cache.account(unmarked, usage, _words)

    assert read.cache_read_tokens == 1200
    # No system prompt and no flagged turn: the backend marks nothing, so nothing is cached.
    assert (nothing.cache_read_tokens, nothing.cache_write_tokens) == (0, 0)


async def test_counted_input_includes_the_structured_output_schema(bench: ModuleType) -> None:
    counter = _module("_prompt_tokens").prompt_counter()
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"verdict": {"enum": ["approve", "reject"]}},
    }

    plain = await counter.prompt(_request("Review.", "the diff"))
    structured = await counter.prompt(_request("Review.", "the diff", schema))

    assert structured - plain == await counter.text(json.dumps(schema)) > 0
