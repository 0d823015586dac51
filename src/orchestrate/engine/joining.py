"""Joining checked work onto the run's branch, one subtask at a time, in plan order.

Subtasks are worked and checked in lanes (`engine/lanes.py`) and may pass in any order; their
commits land on `orchestrate/<run id>` in the order of the plan (dependencies first, ties in the
plan's order), so a run's history reads the same however the timing fell. A subtask that passed
waits for every one before it to be settled: joined, failed, skipped, or finished earlier.

Joining writes the subtask's files, as they passed their checks, into the run's worktree and
commits them there with the subtask's trailers. The scheduler never lets two subtasks that edit
one file run at once (the later starts from the earlier's commit), so the files are the lane's
whole: what was checked is what is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

from orchestrate.engine.edits.paths import resolve_edit_path
from orchestrate.engine.workspace import Workspace

Snapshot = dict[str, bytes | None]
"""Bytes of each of a subtask's files; None when the file does not exist."""


def read_files(root: Path, paths: Iterable[str]) -> Snapshot:
    """The bytes of `paths` under `root` (None for a file that does not exist)."""
    found: Snapshot = {}
    for path in paths:
        target = resolve_edit_path(root, path, None)
        found[path] = target.read_bytes() if target.is_file() else None
    return found


def write_files(root: Path, state: Snapshot) -> None:
    """Make `paths` under `root` hold exactly `state` (deleting those that are None)."""
    for path, content in state.items():
        target = resolve_edit_path(root, path, None)
        if content is None:
            target.unlink(missing_ok=True)
        elif not target.is_file() or target.read_bytes() != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


class Joiner:
    """The run's branch, taking subtasks' checked work in plan order."""

    def __init__(self, workspace: Workspace, lock: asyncio.Lock, order: Sequence[str]) -> None:
        self.workspace = workspace
        self.lock = lock
        """The run's worktree lock: joins and the task checks take it."""
        self._order = list(order)
        self._settled = {sid: asyncio.Event() for sid in self._order}

    def settle(self, subtask_id: str) -> None:
        """`subtask_id` will join nothing more (joined, failed or skipped): later ones may join."""
        settled = self._settled.get(subtask_id)
        if settled is not None:
            settled.set()

    async def turn(self, subtask_id: str) -> None:
        """Wait until every subtask before `subtask_id` in plan order is settled."""
        if subtask_id not in self._settled:
            return
        for earlier in self._order[: self._order.index(subtask_id)]:
            await self._settled[earlier].wait()

    async def join(
        self, subtask_id: str, files: Snapshot, message: tuple[str, str, dict[str, str]]
    ) -> str | None:
        """Commit `files` on the run's branch in `subtask_id`'s turn: the sha, or None when they
        change nothing there. `message` is the title, body and trailers."""
        await self.turn(subtask_id)
        title, body, trailers = message
        async with self.lock:
            return await asyncio.to_thread(self._commit, files, title, body, trailers)

    def _commit(
        self, files: Snapshot, title: str, body: str, trailers: dict[str, str]
    ) -> str | None:
        # A failure here (a full disk) ends the run; its resume resets the worktree to HEAD.
        write_files(self.workspace.path, files)
        return self.workspace.commit(title, body, trailers, list(files))
