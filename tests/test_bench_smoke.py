"""The benchmarks run end to end on tiny sizes and produce the tables they promise.

Timings are never asserted: these only prove each benchmark still runs against today's code and
that what it reports (rows, columns, ledger rows, token counts) follows from what it ran.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

Loader = Callable[[str], ModuleType]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Iterator[Loader]:
    """Import bench modules as `uv run python bench/<name>.py` sees them (bench/ on sys.path)."""
    monkeypatch.syspath_prepend(str(BENCH))
    before = set(sys.modules)
    yield importlib.import_module
    # Forget the bench modules so each test imports them afresh, as a separate script run would.
    for name in set(sys.modules) - before:
        path = getattr(sys.modules[name], "__file__", None)
        if path is not None and Path(path).parent == BENCH:
            del sys.modules[name]


async def test_overhead_table_pairs_every_scenario_and_writes_one_ledger_row_per_routed_call(
    bench: Loader,
) -> None:
    overhead = bench("overhead")

    table = await overhead.measure(calls=5, warmup=1, fresh_calls=2, sizes=(1,))

    assert table.headers[:5] == [
        "scenario",
        "pairs",
        "direct p50 ms",
        "router p50 ms",
        "added p50 ms",
    ]
    assert table.headers[-3:] == ["added CPU p50 ms", "goal", "load"]
    assert table.column("scenario") == [
        "short prompt, local",
        "1 KB fresh, local first, cloud fallback",
        "1 KB fresh, cloud first",
    ]
    assert table.column("pairs") == ["5", "2", "2"]
    assert all(float(cell) > 0 for cell in table.column("direct p50 ms"))
    # 6 short calls, then 3 (one warm-up) on each fresh shape: every routed call is one row.
    assert "ledger rows written by the router: 12" in table.notes
    # The router's added CPU time, a number beside the wall figures (it may be negative: noise).
    assert len([float(cell) for cell in table.column("added CPU p50 ms")]) == 3
    assert re.fullmatch(
        r"< 1 ms: wall (met|NOT met), CPU (met|NOT met)", table.row("short prompt, local")[7]
    )


async def test_parallel_table_has_every_driver_at_every_level(bench: Loader) -> None:
    parallel = bench("parallel")

    table = await parallel.measure(subtasks=4, latency=0.01, levels=(1, 2), repeats=1)

    assert table.headers == [
        "driver",
        "concurrency",
        "wall s",
        "ideal s",
        "efficiency",
        "vs direct",
        "load",
    ]
    assert [(row[0], row[1]) for row in table.rows] == [
        (driver, level) for level in ("1", "2") for driver in parallel.DRIVERS
    ]
    assert table.column("ideal s") == ["0.04"] * 3 + ["0.02"] * 3
    # Each wall time is at least the one call's latency: the calls really waited on the server.
    assert all(float(wall) >= 0.01 for wall in table.column("wall s"))


async def test_pool_table_has_the_baseline_and_every_pool_size(bench: Loader) -> None:
    pool = bench("pool")

    table = await pool.measure(calls=4, latency=0.01, levels=(1, 2), repeats=1)

    assert table.headers == ["setup", "hosts", "wall s", "ideal s", "efficiency", "speed-up"]
    assert [(row[0], row[1]) for row in table.rows] == [
        ("one server, no pool", "1"),
        ("pool of 1", "1"),
        ("pool of 2", "2"),
    ]
    assert table.column("ideal s") == ["0.04", "0.04", "0.02"]
    assert all(float(wall) >= 0.02 for wall in table.column("wall s"))  # the calls really waited


async def test_parallel_with_checks_runs_the_engine_before_and_after(bench: Loader) -> None:
    parallel = bench("parallel")

    table = await parallel.measure_checks(
        subtasks=2, latency=0.05, check_s=0.3, levels=(2,), repeats=1
    )

    assert table.headers[:5] == ["mode", "concurrency", "wall s", "ideal s", "efficiency"]
    assert table.column("mode") == list(parallel.MODES)
    assert table.column("ideal s") == ["0.35", "0.35"]
    before, after = (float(wall) for wall in table.column("wall s"))
    # Before, the two 0.3 s checks took turns; after, each waited at least for its own call and
    # check. (Floors that follow from what ran, not timing goals.)
    assert before >= 0.6 and after >= 0.35
    assert any("flock" in note for note in table.notes)


def test_startup_table_compares_both_commands_with_bare_python(bench: Loader) -> None:
    startup = bench("startup")

    table = startup.measure(runs=1, warmup=0)

    assert table.column("command") == [
        "python -c pass",
        "orchestrate --help",
        "orchestrate config check",
    ]
    assert table.row("python -c pass")[3] == "1.0x"
    # CPU time beside wall time (load does not stretch it), and the load of the moment.
    assert table.headers[4:] == ["cpu s", "cpu vs python", "load"]
    assert all(float(cell) > 0 for cell in table.column("cpu s"))
    assert any(note.startswith("goal: --help under 0.3 s: CPU ") for note in table.notes)
    assert any("heavy" in note for note in table.notes)


def test_heavy_imports_names_the_chain_of_importers(bench: Loader) -> None:
    startup = bench("startup")
    # -X importtime order: a module is listed after what it imported, one level shallower.
    entries = [
        (3, "openai._client", 0.01),
        (2, "openai", 0.02),
        (1, "orchestrate.models.openai", 0.03),
        (0, "orchestrate.cli.app", 0.04),
        (0, "typer", 0.05),
    ]

    assert startup.heavy_imports(entries) == {
        "openai": ["openai._client", "openai", "orchestrate.models.openai", "orchestrate.cli.app"]
    }
    assert startup.slowest_imports(entries, 1) == [("typer", 0.05)]


def test_suite_has_ten_consistent_tasks(bench: Loader) -> None:
    suite = bench("_suite")

    tasks = suite.load_suite()

    assert len(tasks) >= 10
    for task in tasks:
        assert task.source.is_dir()
        assert task.spec.checks, f"{task.name}: plan.md has no check: line"
        assert {s.id for s in task.plan.subtasks} == set(task.script.workers)


async def test_savings_prices_a_task_three_ways_from_the_prompts_really_sent(
    bench: Loader,
) -> None:
    savings = bench("savings")
    task = bench("_suite").load_suite(["fix-round"])[0]
    script = task.script

    runs = await savings.run_modes(["fix-round"])
    table = savings.task_table(runs, True, savings.COMPARED)

    assert table.headers == [
        "task",
        "(a) $",
        "(b) $",
        "hybrid $",
        "hybrid/(a)",
        "hybrid/(b)",
        "pass a/b/h",
    ]
    assert table.column("task") == ["fix-round", "TOTAL tiny", "TOTAL all"]
    assert table.row("TOTAL all")[6] == "1/1 1/1 1/1"
    frontier, cheap, hybrid = (float(cell) for cell in table.row("fix-round")[1:4])
    assert 0 < hybrid < cheap < frontier
    assert any("SCRIPTED" in note for note in table.notes)
    # Input tokens are the prompts the engine sent, counted; not the script's figures. The
    # planner is sent the same prompt in every mode, so it counts the same in each.
    planner = {
        mode: [a.input_tokens for a in runs[(mode, True)][0].attempts if a.agent == "planner"]
        for mode in savings.MODES
    }
    [counted] = {tuple(tokens) for tokens in planner.values()}
    assert len(counted) == 1 and counted[0] > 0 and counted[0] != script.planner.input_tokens
    # Output tokens are the answer's text counted, not the script's figure.
    counter = bench("_prompt_tokens").prompt_counter()
    review = json.dumps(script.reviewer.review)
    full = runs[(savings.FULL_REVIEW, True)][0]
    reviewed = [a for a in full.attempts if a.agent == "reviewer"]
    assert [a.output_tokens for a in reviewed] == [await counter.text(review)]
    assert reviewed[0].output_tokens != script.reviewer.output_tokens
    # The quick reviewer (Haiku, its verdict derived from the script's approve) settles hybrid's
    # review; with --full-review the full reviewer (Sonnet) does, at a higher price.
    quick = runs[("hybrid", True)][0]
    assert {a.agent for a in quick.attempts if a.tier == "cloud"} == {"planner", "quick-reviewer"}
    assert quick.result.reviewed_by.startswith("quick-reviewer cheap:bench-quick-reviewer")
    assert quick.passed and full.passed and quick.result.cloud_usd < full.result.cloud_usd
    # Run as written, no planner is paid, and the run still passes.
    written = runs[("hybrid", False)][0]
    assert written.passed and not [a for a in written.attempts if a.agent == "planner"]
    lever = savings.lever_table(runs, savings.pricer())
    assert [row[:3] for row in lever.rows][-1] == [
        "all",
        savings.FULL_REVIEW,
        "not for tasks naming files+checks",
    ]
    assert lever.headers[-1] == "load"


@pytest.mark.real_model
async def test_local_tier_compares_provider_and_direct_llama(bench: Loader) -> None:
    local_tier = bench("local_tier")

    table = await local_tier.measure(runs=1, max_tokens=8)

    assert table.column("") == ["llama-cpp-python direct", "router + llamacpp provider"]
    assert table.row("llama-cpp-python direct")[3] == "1.00x"


def test_scan_table_times_the_gated_and_the_plain_scan_of_the_same_texts(bench: Loader) -> None:
    scan = bench("scan")

    table = scan.measure(texts=3, sizes=(1, 2))

    assert table.column("text") == ["1 KB", "2 KB"]
    assert table.headers[-1] == "load"
    for row in table.rows:
        assert all(float(cell) >= 0 for cell in row[1:5])
        assert row[5].endswith("x")
