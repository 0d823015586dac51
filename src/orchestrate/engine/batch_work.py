"""One batch of a run's subtasks (the plan, or a review round's follow-ups), carried out.

The scheduler (`engine/scheduler.py`) decides when each subtask may start; here each one gets a
lane to be worked and checked in (`engine/lanes.py`), a worker, and its turn to join the run's
branch in plan order (`engine/joining.py`). A batch of one subtask, or a run at concurrency 1,
works in the run's own worktree. Every result is kept (saved) as it comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from orchestrate.config.schema import AgentConfig
from orchestrate.engine.joining import Joiner
from orchestrate.engine.lanes import Lane, Lanes
from orchestrate.engine.plan import Subtask, topological_order
from orchestrate.engine.replanning import Replanning
from orchestrate.engine.result import SubtaskResult
from orchestrate.engine.scheduler import run_batch
from orchestrate.engine.worker import RunContext, Status, Worker
from orchestrate.events import SubtaskFinished, SubtaskStatus
from orchestrate.sandbox.environments import CheckEnvironment
from orchestrate.sandbox.setup import CheckSetup

Keep = Callable[[SubtaskResult], SubtaskResult]
"""Records a finished subtask's result (and saves the run's progress)."""


class BatchWork:
    """Works one batch's subtasks, each in its lane, joined in plan order."""

    def __init__(
        self,
        ctx: RunContext,
        checks: CheckSetup,
        subtasks: Sequence[Subtask],
        *,
        concurrency: int,
        keep: Keep,
        carry: Replanning | None = None,
    ) -> None:
        """`carry`: what carries each subtask to its end (re-planning failed ones); without
        it, a subtask is one worker's try."""
        self.ctx, self.checks, self.keep = ctx, checks, keep
        self.carry = carry
        self.subtasks = list(subtasks)
        self.concurrency = concurrency
        workspace = ctx.workspace
        order = [subtask.id for subtask in topological_order(self.subtasks)]
        self.joiner = Joiner(workspace, ctx.lock, order)
        alone = concurrency == 1 or len(self.subtasks) <= 1
        own = Lane(workspace.path, ctx.environment) if alone else None
        self.lanes = Lanes(workspace, self._environment, shared=own)

    async def run(self, finished: Mapping[str, bool]) -> None:
        """Carry the batch out; `finished` maps earlier work's ids to whether it passed."""
        for subtask in self.subtasks:
            self._status(subtask.id, "queued")
        try:
            await run_batch(
                self.subtasks,
                self._work,
                self._skip,
                concurrency=self.concurrency,
                finished=finished,
            )
        finally:
            await asyncio.to_thread(self.lanes.remove)

    def _environment(self, path: Path) -> CheckEnvironment:
        return self.checks.environment(self.ctx.workspace.files, path)

    async def _work(self, subtask: Subtask) -> SubtaskResult:
        agent = self.ctx.config.agents[subtask.agent]
        try:
            if self.carry is None:
                _, result = await self.attempt(agent, subtask, hand_back=False)
            else:
                result = await self.carry.run(subtask, self.attempt, self._skip)
        finally:
            self.joiner.settle(subtask.id)
        return self.keep(result)

    async def attempt(
        self, agent: AgentConfig, subtask: Subtask, *, hand_back: bool
    ) -> tuple[Worker, SubtaskResult]:
        """One worker's try at `subtask` in a lane of its own. A split's parts (ids the plan
        does not order) join the run's branch as they pass; the subtask they replace is settled,
        letting later ones join, once they are all done."""
        async with self.lanes.lane() as lane:
            worker = Worker(
                self.ctx, agent, subtask, lane=lane, joiner=self.joiner, hand_back=hand_back
            )
            return worker, await worker.run()

    def _skip(self, subtask: Subtask, reason: str) -> SubtaskResult:
        self.joiner.settle(subtask.id)
        self._status(subtask.id, "failed", reason)
        self.ctx.emit(
            SubtaskFinished(run_id=self.ctx.run_id, subtask_id=subtask.id, ok=False, detail=reason)
        )
        return self.keep(SubtaskResult.ended(subtask, reason))

    def _status(self, subtask_id: str, status: Status, detail: str = "") -> None:
        self.ctx.emit(
            SubtaskStatus(
                run_id=self.ctx.run_id, subtask_id=subtask_id, status=status, detail=detail
            )
        )
