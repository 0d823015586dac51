"""Start-up: wall time of `orchestrate --help` and `orchestrate config check` against `python -c pass`.

Each command runs several times in a fresh process (median shown). Also lists which heavy modules
`orchestrate --help` imports, and through which of our modules, from `-X importtime`.
Goal: `--help` under 0.3 s on this machine.

    uv run python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Table, median, show

HEAVY = ("anthropic", "openai", "ollama", "textual", "llama_cpp", "github", "git")
"""SDKs and libraries that must load only when a command uses them."""
GOAL_S = 0.3


def orchestrate_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m orchestrate`."""
    script = Path(sys.executable).with_name("orchestrate")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "orchestrate"]


def _wall(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return elapsed


Import = tuple[int, str, float]
"""One `-X importtime` line: nesting depth, module name, cumulative seconds."""


def import_times(cwd: Path) -> list[Import]:
    """What `orchestrate --help` imports, in `-X importtime` order (a module after its imports)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        [*orchestrate_command(), "--help"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    entries: list[Import] = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        field = parts[2]
        depth = len(field) - len(field.lstrip())
        entries.append((depth, field.strip(), int(parts[1]) / 1e6))
    return entries


def heavy_imports(entries: list[Import]) -> dict[str, list[str]]:
    """Heavy top-level modules among `entries`, each with its chain of importers.

    A module is listed after everything it imported, one indent level deeper; so the importer of a
    line is the next line below it with less indentation.
    """
    found: dict[str, list[str]] = {}
    for index, (depth, name, _) in enumerate(entries):
        top = name.split(".")[0]
        if top not in HEAVY or top in found:
            continue
        chain, level = [name], depth
        for later_depth, later, _ in entries[index + 1 :]:
            if later_depth < level:
                chain.append(later)
                level = later_depth
        found[top] = chain
    return found


def slowest_imports(entries: list[Import], count: int = 3) -> list[tuple[str, float]]:
    """The outermost imports that took longest, with their cumulative seconds."""
    outer = min((depth for depth, _, _ in entries), default=0)
    ranked = sorted((e for e in entries if e[0] == outer), key=lambda e: e[2], reverse=True)
    return [(name, seconds) for _, name, seconds in ranked[:count]]


def measure(runs: int = 7, warmup: int = 1) -> Table:
    """Median wall time of each command over `runs` runs, taking turns so drift hits all alike."""
    base = [sys.executable, "-c", "pass"]
    orchestrate = orchestrate_command()
    commands = {
        "python -c pass": base,
        "orchestrate --help": [*orchestrate, "--help"],
        "orchestrate config check": [*orchestrate, "config", "check"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        # An empty directory: config check sees only the packaged agents, nothing of this repo.
        cwd = Path(tmp)
        for _ in range(warmup):  # warm the file cache; not counted
            for argv in commands.values():
                _wall(argv, cwd)
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(_wall(argv, cwd))
        entries = import_times(cwd)
    baseline = median(times["python -c pass"])
    table = Table(
        f"Start-up: median of {runs} runs, fresh process each",
        ["command", "median s", "min s", "vs python -c pass"],
    )
    for name, samples in times.items():
        ratio = median(samples) / baseline
        table.add(name, f"{median(samples):.3f}", f"{min(samples):.3f}", f"{ratio:.1f}x")
    help_s = median(times["orchestrate --help"])
    table.notes.append(f"goal: --help under {GOAL_S} s: {'met' if help_s < GOAL_S else 'NOT met'}")
    heavy = heavy_imports(entries)
    if heavy:
        for top, chain in heavy.items():
            table.notes.append(f"heavy import by --help: {top} via {' <- '.join(chain)}")
    else:
        table.notes.append(f"heavy modules imported by --help: none of {', '.join(HEAVY)}")
    slowest = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in slowest_imports(entries))
    table.notes.append(f"slowest imports of --help (cumulative, one run): {slowest}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    show(measure(args.runs))


if __name__ == "__main__":
    main()
