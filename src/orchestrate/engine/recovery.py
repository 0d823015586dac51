"""Taking a run up where a killed process left it: its lock, its workspace, git's lock files.

`holding_run` gives one process at a time a run (and says so when it takes over the lock of a
process that died holding it). `reopen_workspace` finds the run's worktree again (making it if
the process was killed before it could), clears the git lock files the killed process left in
it, and drops its half-applied edits and its lanes, so the resume starts from what was
committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from orchestrate.engine.git_locks import clear_stale_locks, run_git_locks
from orchestrate.engine.lanes import remove_stale_lanes
from orchestrate.engine.run_lock import run_lock
from orchestrate.engine.run_state import RunState, reset_worktree
from orchestrate.engine.workspace import Workspace
from orchestrate.events import EventBus, RunNotice
from orchestrate.exceptions import RepoError


@asynccontextmanager
async def holding_run(repo: Path, run_id: str, events: EventBus) -> AsyncIterator[None]:
    """Run `run_id`'s lock for the block: no second process works on the same run."""
    lock = run_lock(repo, run_id)
    await asyncio.to_thread(lock.acquire)
    try:
        if lock.taken_over is not None:
            said = f"taken over from {lock.taken_over.describe()}, which ended without finishing it"
            events.emit(RunNotice(run_id=run_id, text=f"run {run_id}: {said}"))
        yield
    finally:
        lock.release()


async def reopen_workspace(repo: Path, state: RunState, events: EventBus) -> Workspace:
    """The run's workspace as its last commit left it (call it holding the run's lock)."""
    workspace = await asyncio.to_thread(_reopen, repo, state)
    cleared = await asyncio.to_thread(clear_stale_locks, run_git_locks(workspace))
    if cleared:
        names = ", ".join(str(path) for path in cleared)
        text = f"run {state.run_id}: removed git lock files a killed process left: {names}"
        events.emit(RunNotice(run_id=state.run_id, text=text))
    await asyncio.to_thread(reset_worktree, workspace.path)
    # Work checked in a lane but never joined is redone (its answers replayed, not bought again).
    await asyncio.to_thread(remove_stale_lanes, workspace)
    return workspace


def _reopen(repo: Path, state: RunState) -> Workspace:
    try:
        return Workspace.open(repo, state.run_id)
    except RepoError:
        if state.results or state.reviews:
            raise  # work was done on a branch that is gone: nothing to carry on from
        # Killed before the workspace was made (or while it was being made): make it now.
        return Workspace.create(repo, state.run_id, state.continues, state.start)
