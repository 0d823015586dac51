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
    def __init__(self, subtasks: Sequence[Subtask], finished: Mapping[str, bool]) -> None:
        self.pending = topological_order(subtasks)
        self.waits = prerequisites(self.pending)
        self.passed: dict[str, bool] = dict(finished)
        self.results: list[SubtaskResult] = []

    def record(self, result: SubtaskResult) -> None:
        self.passed[result.id] = result.status == "done"
        self.results.append(result)

    def failed_dependency(self, subtask: Subtask) -> str | None:
        return next((dep for dep in subtask.depends_on if self.passed.get(dep) is False), None)

    def ready(self, subtask: Subtask) -> bool:
        return all(dep in self.passed for dep in self.waits[subtask.id])


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
    batch = _Batch(subtasks, finished or {})
    running: dict[asyncio.Task[SubtaskResult], Subtask] = {}
    try:
        while batch.pending or running:
            for subtask in list(batch.pending):
                failed = batch.failed_dependency(subtask)
                if failed is not None:
                    batch.pending.remove(subtask)
                    batch.record(skip(subtask, f"skipped: it depends on {failed}, which failed"))
                elif len(running) < concurrency and batch.ready(subtask):
                    batch.pending.remove(subtask)
                    running[asyncio.create_task(run_one(subtask))] = subtask
            if not running:
                # Only reachable with a dependency that is neither in the batch nor finished.
                for subtask in batch.pending:
                    batch.record(skip(subtask, "skipped: it waits for an unknown subtask"))
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                running.pop(task)
                batch.record(task.result())
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    return batch.results
