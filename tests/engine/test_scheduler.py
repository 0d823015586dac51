"""The batch scheduler: concurrency cap, dependencies, same-file ordering, skips and errors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from orchestrate.engine.plan import Subtask
from orchestrate.engine.result import SubtaskResult
from orchestrate.engine.scheduler import run_batch


def task(sid: str, files: Sequence[str] = (), deps: Sequence[str] = ()) -> Subtask:
    return Subtask(
        id=sid,
        title=f"Step {sid}",
        kind="code",
        spec="x",
        edit_files=list(files) or [f"{sid}.py"],
        depends_on=list(deps),
    )


class Recorder:
    """A `run_one` that logs starts and ends, holds each subtask for a few loop turns, and
    fails the ids it is told to."""

    def __init__(self, failing: Sequence[str] = (), raising: str | None = None) -> None:
        self.log: list[tuple[str, str]] = []
        self.now = 0
        self.peak = 0
        self.failing, self.raising = set(failing), raising
        self.cancelled: list[str] = []

    async def __call__(self, subtask: Subtask) -> SubtaskResult:
        self.log.append(("start", subtask.id))
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            if subtask.id == self.raising:
                raise RuntimeError(f"{subtask.id} broke")
            if subtask.id != self.raising and self.raising is not None:
                await asyncio.sleep(10)  # still running when the other one breaks
        except asyncio.CancelledError:
            self.cancelled.append(subtask.id)
            raise
        finally:
            self.now -= 1
            self.log.append(("end", subtask.id))
        status = "failed" if subtask.id in self.failing else "done"
        return SubtaskResult(
            id=subtask.id,
            title=subtask.title,
            kind=subtask.kind,
            agent=subtask.agent,
            status=status,
            commit=None,
            model="m",
            rounds=1,
            detail=status,
        )

    def index(self, event: str, sid: str) -> int:
        return self.log.index((event, sid))


async def test_runs_everything_and_never_more_than_the_cap_at_once() -> None:
    run = Recorder()
    results = await run_batch(
        [task(str(n)) for n in range(7)], run, SubtaskResult.ended, concurrency=3
    )
    assert sorted(r.id for r in results) == [str(n) for n in range(7)]
    assert all(r.status == "done" for r in results)
    assert run.peak == 3


async def test_dependencies_and_same_file_editors_wait_for_what_they_need() -> None:
    run = Recorder()
    batch = [task("b", deps=["a"]), task("a"), task("c", files=["a.py"]), task("d")]
    await run_batch(batch, run, SubtaskResult.ended, concurrency=4)
    assert run.index("end", "a") < run.index("start", "b")
    # c edits a.py, as a does: it waits for a to finish (passed or not).
    assert run.index("end", "a") < run.index("start", "c")
    # d waits for nothing: it starts beside a.
    assert run.index("start", "d") < run.index("end", "a")


async def test_a_failed_dependency_skips_its_dependents_with_the_reason() -> None:
    run = Recorder(failing=["a"])
    batch = [task("a"), task("b", deps=["a"]), task("c", deps=["b"]), task("d")]
    results = {r.id: r for r in await run_batch(batch, run, SubtaskResult.ended, concurrency=2)}
    assert results["b"].detail == "skipped: it depends on a, which failed"
    assert results["c"].detail == "skipped: it depends on b, which failed"
    assert results["d"].status == "done"
    assert ("start", "b") not in run.log and ("start", "c") not in run.log


async def test_work_finished_before_counts_and_an_unknown_dependency_is_skipped() -> None:
    run = Recorder()
    batch = [task("b", deps=["a"]), task("x", deps=["nowhere"])]
    results = await run_batch(batch, run, SubtaskResult.ended, concurrency=2, finished={"a": True})
    by_id = {r.id: r for r in results}
    assert by_id["b"].status == "done"
    assert by_id["x"].detail == "skipped: it waits for an unknown subtask"


async def test_an_error_in_one_subtask_cancels_the_others_and_propagates() -> None:
    run = Recorder(raising="a")
    with pytest.raises(RuntimeError, match="a broke"):
        await run_batch([task("a"), task("b")], run, SubtaskResult.ended, concurrency=2)
    assert run.cancelled == ["b"]
    assert run.now == 0
