"""Shared helpers for the benchmarks: a plain-text table, percentiles and the machine's description.

Benchmarks print ratios against a baseline measured in the same run, so figures from different
machines compare by ratio, not by absolute time.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


@dataclass
class Table:
    """A titled table of text cells, printed last by every benchmark."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Lines printed under the table (goals, caveats)."""

    def add(self, *cells: object) -> None:
        """Append a row; cells are formatted with `str`, one per header."""
        if len(cells) != len(self.headers):
            raise ValueError(f"row has {len(cells)} cells for {len(self.headers)} columns")
        self.rows.append([str(cell) for cell in cells])

    def column(self, header: str) -> list[str]:
        """Every cell under `header`, top to bottom."""
        index = self.headers.index(header)
        return [row[index] for row in self.rows]

    def row(self, first_cell: str) -> list[str]:
        """The row whose first cell is `first_cell`."""
        for row in self.rows:
            if row[0] == first_cell:
                return row
        raise KeyError(first_cell)

    def render(self) -> str:
        """The table as aligned text: title, header, rule, rows, notes."""
        widths = [len(h) for h in self.headers]
        for row in self.rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

        def line(cells: list[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
            return "  ".join([first, *rest]).rstrip()

        out = [self.title, line(self.headers), "  ".join("-" * w for w in widths)]
        out += [line(row) for row in self.rows]
        out += self.notes
        return "\n".join(out)


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: list[float]) -> float:
    """The median of `values`."""
    return statistics.median(values)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what the platform module says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for text in cpuinfo.read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    """The 1-minute load average now, e.g. `6.4` (`-` where the OS has none).

    Other work on the machine moves every figure (the ratios less so): each benchmark prints it
    beside what it measured."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "-"


def machine() -> str:
    """One line naming the machine: cores available to us, the CPU model and the load now."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    python = platform.python_version()
    return f"{cores} cores, {cpu_model()}, Python {python}, load average {load_average()}"


Serve = Callable[..., None]
"""A child process's body: serve, send the base URL down the pipe (its first argument), and
return when the parent sends anything back."""


@contextmanager
def server_process(serve: Serve, *args: Any) -> Iterator[str]:
    """The base URL of a fake server `serve` runs in a process of its own.

    A real server is another process: in ours, the fake's threads would take the GIL from the
    client being measured (and its figures would move with our own load)."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(target=serve, args=(theirs, *args))
    child.start()
    try:
        yield str(ours.recv())
    finally:
        ours.send("stop")
        child.join(timeout=10)


def serve_until_told(pipe: Connection, url: str) -> None:
    """In a child process: hand `url` to the parent, then wait until it says stop."""
    pipe.send(url)
    pipe.recv()


def show(table: Table) -> None:
    """Print the machine line then the table, with a blank line before it."""
    print(f"\nmachine: {machine()}")
    print(table.render())
