"""Tidying up after finished runs: their worktrees and saved progress go, their branches stay.

A run's branch is its result and is never deleted here. Unfinished runs are left whole (they
can be resumed), and so is a finished run whose worktree holds changes nobody committed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import git
from pydantic import BaseModel

from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_state import load_state
from orchestrate.exceptions import RepoError


class Pruned(BaseModel):
    """What `prune_finished` did."""

    removed: list[str] = []
    """Finished runs whose worktree and saved progress were removed."""
    kept_dirty: list[str] = []
    """Finished runs left alone: git would not remove their worktree (uncommitted changes)."""
    unfinished: list[str] = []
    """Runs with no result yet, or stopped by a server down, kept so they can be resumed."""


def prune_finished(repo: Path) -> Pruned:
    """Remove the worktrees, state, replay files and scratch homes of `repo`'s finished runs."""
    done = Pruned()
    for files in RepoFiles.of(repo).saved_runs():
        try:
            state = load_state(files.state)
        except RepoError:
            continue  # unreadable: left for the user to look at, never deleted blind
        if state.unfinished:
            done.unfinished.append(state.run_id)
        elif _remove_worktree(repo, files.worktree):
            files.state.unlink()
            files.responses.unlink(missing_ok=True)
            shutil.rmtree(files.home, ignore_errors=True)
            done.removed.append(state.run_id)
        else:
            done.kept_dirty.append(state.run_id)
    return done


def _remove_worktree(repo: Path, worktree: Path) -> bool:
    """Remove `worktree` unless git refuses (uncommitted changes, a lock); True if it is gone."""
    main = git.Git(repo)
    if (worktree / ".git").exists():
        try:
            # No --force: a worktree with changes nobody committed is the user's to keep.
            main.worktree("remove", str(worktree))
        except git.GitCommandError:
            return False
    main.worktree("prune")
    return True
