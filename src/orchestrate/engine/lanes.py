"""Lanes: where subtasks are worked and checked side by side, each in a worktree of its own.

A subtask's edit is applied and checked in a lane: a detached git worktree set to the run
branch's current commit when the subtask starts. Two subtasks' checks (a test suite taking
minutes) then run at once without seeing each other's half-finished edits, which the run's
single worktree could only offer one at a time. What passes is joined onto the run's branch
(`engine/joining.py`); the lane itself never commits.

Lanes are made when first needed (at most one per subtask running at once), reused by the next
subtask (reset to the branch's new commit), and removed when the batch ends. A batch with one
subtask, or a run at concurrency 1, works in the run's own worktree: nothing runs beside it.
Lanes live with the run's other files (`run_files`), outside the user's checkout; ones a killed
process left are removed and made again.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from orchestrate.engine.workspace import Workspace
from orchestrate.sandbox.environments import CheckEnvironment

_WORKTREE_ADMIN = threading.Lock()
"""Held while lanes are added or removed: git's worktree bookkeeping is not safe to change
from two threads at once (batches of several runs in this process share it too)."""

EnvironmentFor = Callable[[Path], CheckEnvironment]
"""The check environment of a worktree (blocking: call it in a thread)."""


@dataclass
class Lane:
    """A worktree one subtask is worked and checked in, and how checks run there."""

    path: Path
    environment: CheckEnvironment


class Lanes:
    """The lanes of one batch: free ones are reused, all are removed at the end."""

    def __init__(
        self, workspace: Workspace, environment_for: EnvironmentFor, *, shared: Lane | None
    ) -> None:
        self.workspace = workspace
        self.environment_for = environment_for
        self.shared = shared
        """When set, every subtask works in this lane (the run's own worktree), one at a time."""
        self.root = workspace.files.lanes
        self._free: list[Lane] = []
        self._made: list[Lane] = []
        self._count = 0
        self._git = git.Git(workspace.path)
        self._making = asyncio.Lock()
        """One `git worktree add` at a time: two at once race on the repository's worktree
        records ("failed to read .../worktrees/lane-0/commondir"), seen in the test suite."""

    @asynccontextmanager
    async def lane(self) -> AsyncIterator[Lane]:
        """A lane at the run branch's current commit, for one subtask."""
        if self.shared is not None:
            yield self.shared
            return
        head = await asyncio.to_thread(self.workspace.head)
        if self._free:
            lane = self._free.pop()
            await asyncio.to_thread(_reset, lane.path, head)
        else:
            # Named here, on the loop: two lanes made at once in threads must not share a name.
            path = self.root / f"lane-{self._count}"
            self._count += 1
            async with self._making:
                lane = await asyncio.to_thread(self._make, path, head)
        try:
            yield lane
        finally:
            self._free.append(lane)

    def _make(self, path: Path, head: str) -> Lane:
        # One worktree add at a time: two at once in one repository can fail ("failed to read
        # .git/worktrees/<other>/commondir"), one reading what the other is still writing.
        with _WORKTREE_ADMIN:
            if path.exists():
                # Left by a killed process: its index may be locked or half-written.
                shutil.rmtree(path)
                self._git.worktree("prune")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._git.worktree("add", "--quiet", "--detach", str(path), head)
        lane = Lane(path, self.environment_for(path))
        self._made.append(lane)
        return lane

    def remove(self) -> None:
        """Remove every lane this batch made (blocking)."""
        with _WORKTREE_ADMIN:
            for lane in self._made:
                if (lane.path / ".git").exists():
                    self._git.worktree("remove", "--force", str(lane.path))
            shutil.rmtree(self.root, ignore_errors=True)
            self._made.clear()
            self._free.clear()
            self._git.worktree("prune")


def _reset(path: Path, head: str) -> None:
    """The lane exactly at `head`: edits and files of the last subtask gone (ignored ones, such
    as caches, kept)."""
    cmd = git.Git(path)
    cmd.reset("--hard", "--quiet", head)
    cmd.clean("-fdq")


def remove_stale_lanes(workspace: Workspace) -> None:
    """Remove the lanes a killed process left (blocking); their work was never joined."""
    root = workspace.files.lanes
    if not root.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    git.Git(workspace.path).worktree("prune")
