"""Privacy scan of fresh prompts: the gated scan (prefilter) against the plain one, which searches
every pattern over the whole text, in one process on the same texts.

Each text is a new 20 KB (or 60 KB) slice of Python's standard library, scanned once each way,
the side going first alternating; times are CPU time of this process (`time.process_time`), so
other work on the machine moves them less than wall time. The findings of both sides are
compared on every text: a difference stops the benchmark.

Goal (issue 16): the scan of a fresh 20 KB prompt at most 1.5 ms p50 on an idle machine, so that
the cloud-first call adds under 5 ms (bench/overhead.py).

    uv run python bench/scan.py [--texts 200]
"""

from __future__ import annotations

import argparse
import random
import time

from _common import Table, load_average, percentile, show
from overhead import _stdlib_code, fresh_text

from orchestrate.config.schema import DEFAULT_ENTROPY_LIMIT
from orchestrate.privacy.prefilter import Text
from orchestrate.privacy.scanner import scan_text

GOAL_MS = 1.5
Findings = tuple[tuple[str, int, int, int], ...]


def _timed(text: str, gated: bool) -> tuple[float, Findings]:
    start = time.process_time()
    found = scan_text(Text(text, gated=gated), DEFAULT_ENTROPY_LIMIT, True)
    return (time.process_time() - start) * 1000, found


def measure(texts: int, sizes: tuple[int, ...] = (20, 60), seed: int = 16) -> Table:
    """p50 and p99 CPU ms per scan, plain and gated, for `texts` fresh texts of each size."""
    table = Table(
        f"Privacy scan of fresh code, {texts} texts a size (CPU ms per scan)",
        ["text", "plain p50", "gated p50", "plain p99", "gated p99", "speed-up p50", "load"],
    )
    code = _stdlib_code()
    scan_text(Text("warm up"), DEFAULT_ENTROPY_LIMIT, True)
    for kb in sizes:
        rng = random.Random(seed + kb)
        times: dict[bool, list[float]] = {False: [], True: []}
        for index in range(texts):
            text = fresh_text(kb * 1024, rng, code)
            sides = (True, False) if index % 2 else (False, True)
            found: dict[bool, Findings] = {}
            for gated in sides:
                ms, found[gated] = _timed(text, gated)
                times[gated].append(ms)
            if found[True] != found[False]:
                raise SystemExit(f"gated and plain findings differ on text {index} of {kb} KB")
        plain_ms, gated_ms = percentile(times[False], 50), percentile(times[True], 50)
        table.add(
            f"{kb} KB",
            f"{plain_ms:.2f}",
            f"{gated_ms:.2f}",
            f"{percentile(times[False], 99):.2f}",
            f"{percentile(times[True], 99):.2f}",
            f"{plain_ms / gated_ms:.1f}x",
            load_average(),
        )
    table.notes.append(f"goal: gated p50 <= {GOAL_MS} ms at 20 KB on an idle machine")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200, help="fresh texts per size")
    show(measure(parser.parse_args().texts))


if __name__ == "__main__":
    main()
