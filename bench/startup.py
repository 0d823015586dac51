"""Start-up: wall and CPU time of `orchestrate --help` and `config check` against `python -c pass`.

Each command runs several times in a fresh process (median shown). CPU time (user + system, the
child's own `wait4` rusage) is judged beside wall time: on a loaded machine wall time waits for
a core, CPU time does not. Also lists which heavy modules `orchestrate --help` imports, and
through which of our modules, from `-X importtime`.
Goal: `--help` under 0.3 s on this machine, in CPU time and (on an idle machine) in wall time.

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

from _common import Table, load_average, median, show

HEAVY = ("anthropic", "openai", "ollama", "textual", "llama_cpp", "github", "git")
"""SDKs and libraries that must load only when a command uses them."""
GOAL_S = 0.3


def orchestrate_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m orchestrate`."""
    script = Path(sys.executable).with_name("orchestrate")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "orchestrate"]


def _timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of `argv`."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace").strip()
            raise RuntimeError(f"{' '.join(argv)} exited {child.returncode}: {said}")
    return elapsed, usage.ru_utime + usage.ru_stime


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
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        # An empty directory: config check sees only the packaged agents, nothing of this repo.
        cwd = Path(tmp)
        for _ in range(warmup):  # warm the file cache; not counted
            for argv in commands.values():
                _timed(argv, cwd)
        for _ in range(runs):
            for name, argv in commands.items():
                wall, cpu = _timed(argv, cwd)
                walls[name].append(wall)
                cpus[name].append(cpu)
        entries = import_times(cwd)
    table = Table(
        f"Start-up: median of {runs} runs, fresh process each",
        ["command", "median s", "min s", "vs python -c pass", "cpu s", "cpu vs python", "load"],
    )
    wall_base, cpu_base = median(walls["python -c pass"]), median(cpus["python -c pass"])
    for name in commands:
        wall, cpu = median(walls[name]), median(cpus[name])
        table.add(
            name,
            f"{wall:.3f}",
            f"{min(walls[name]):.3f}",
            f"{wall / wall_base:.1f}x",
            f"{cpu:.3f}",
            f"{cpu / cpu_base:.1f}x" if cpu_base else "-",
            load_average(),
        )
    help_wall, help_cpu = median(walls["orchestrate --help"]), median(cpus["orchestrate --help"])
    table.notes.append(
        f"goal: --help under {GOAL_S} s: CPU {help_cpu:.3f} s "
        f"{'met' if help_cpu < GOAL_S else 'NOT met'}; wall {help_wall:.3f} s "
        f"{'met' if help_wall < GOAL_S else 'NOT met'} (wall also waits for a free core)"
    )
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
