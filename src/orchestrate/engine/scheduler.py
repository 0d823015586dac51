"""Running a batch of subtasks concurrently, each once what it waits for has finished.

A subtask waits for its `depends_on` (which must succeed; if one fails it is skipped) and for
every subtask earlier in dependency order that edits one of its files (which need only finish):
two workers editing the same file at once would each write against text the other changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from orchestrate.engine.plan import Subtask, topological_order
from orchestrate.engine.result import SubtaskResult

RunOne = Callable[[Subtask], Coroutine[Any, Any, SubtaskResult]]
"""Carries out one subtask."""
Skip = Callable[[Subtask, str], SubtaskResult]
"""Records a subtask that will not run, with the reason."""


def prerequisites(order: Sequence[Subtask]) -> dict[str, set[str]]:
    """Ids each subtask must see finished first: dependencies, then earlier same-file editors."""
    waits: dict[str, set[str]] = {}
    for position, subtask in enumerate(order):
        mine = set(subtask.edit_files)
        earlier = {other.id for other in order[:position] if mine & set(other.edit_files)}
        waits[subtask.id] = set(subtask.depends_on) | earlier
    return waits


class _Batch:
    def __init__(self, subtasks: Sequence[Subtask], finished: Mapping[str, bool], skip: Skip):
        self.pending = topological_order(subtasks)
        self.waits = prerequisites(self.pending)
        self.passed: dict[str, bool] = dict(finished)
        self.results: list[SubtaskResult] = []
        self.skip = skip

    def record(self, result: SubtaskResult) -> None:
        self.passed[result.id] = result.status == "done"
        self.results.append(result)

    def take(self) -> Subtask | None:
        """The next subtask that may start, recording as skipped those whose dependency failed."""
        for subtask in list(self.pending):
            failed = next((d for d in subtask.depends_on if self.passed.get(d) is False), None)
            if failed is not None:
                self.pending.remove(subtask)
                self.record(self.skip(subtask, f"skipped: it depends on {failed}, which failed"))
            elif all(dep in self.passed for dep in self.waits[subtask.id]):
                self.pending.remove(subtask)
                return subtask
        return None

    def skip_stuck(self) -> None:
        """Skip what is left: only reachable with a dependency neither in the batch nor finished."""
        for subtask in self.pending:
            self.record(self.skip(subtask, "skipped: it waits for an unknown subtask"))
        self.pending.clear()


class _Slots:
    """`concurrency` slots, each taking the next ready subtask as soon as its last one is done.

    No coordinating task sits between one subtask's end and the next one's start: that hop,
    once per subtask, cost several percent of wall time at concurrency 8 (bench/parallel.py).
    """

    def __init__(self, batch: _Batch, run_one: RunOne) -> None:
        self.batch, self.run_one = batch, run_one
        self.changed = asyncio.Condition()
        self.running = 0

    async def _next(self) -> Subtask | None:
        """A subtask to run now, waiting while others run; None when nothing is left to start."""
        async with self.changed:
            while (subtask := self.batch.take()) is None:
                if not self.batch.pending:
                    return None
                if self.running == 0:
                    self.batch.skip_stuck()
                    self.changed.notify_all()
                    return None
                await self.changed.wait()
            self.running += 1
            return subtask

    async def slot(self) -> None:
        while (subtask := await self._next()) is not None:
            try:
                result = await self.run_one(subtask)
            finally:
                self.running -= 1
            async with self.changed:
                self.batch.record(result)
                self.changed.notify_all()


async def run_batch(
    subtasks: Sequence[Subtask],
    run_one: RunOne,
    skip: Skip,
    *,
    concurrency: int,
    finished: Mapping[str, bool] | None = None,
) -> list[SubtaskResult]:
    """Run `subtasks`, at most `concurrency` at once; results in the order they finished.

    `finished` maps ids of earlier work to whether it passed, for dependencies outside the batch.
    """
    batch = _Batch(subtasks, finished or {}, skip)
    pool = _Slots(batch, run_one)
    slots = [asyncio.create_task(pool.slot()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*slots)
    finally:
        for task in slots:
            task.cancel()
        await asyncio.gather(*slots, return_exceptions=True)
    return batch.results
