"""Many lanes made at the same moment: `git worktree add` is not safe to run concurrently in one
repository (one add can read another's half-written `.git/worktrees/<name>` and fail with
"failed to read .../commondir"), so lanes are made one at a time, however many subtasks start
together."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from tests.engine.test_engine_scripted import repo

from orchestrate.engine.lanes import Lanes
from orchestrate.engine.workspace import Workspace
from orchestrate.sandbox.environments import LocalEnvironment

__all__ = ["repo"]  # a fixture, imported to be found by pytest

AT_ONCE = 6
# git itself, behind a wrapper that notes any `worktree add` starting while another still runs
# (mkdir is atomic: it fails while the other's directory exists).
WRAPPER = """#!/bin/sh
if [ "$1" = worktree ] && [ "$2" = add ]; then
  if ! mkdir "{busy}" 2>/dev/null; then echo overlap >> "{log}"; fi
  sleep 0.2
  "{git}" "$@"; status=$?
  rmdir "{busy}" 2>/dev/null
  exit $status
fi
exec "{git}" "$@"
"""


@pytest.fixture
def watched_git(tmp_path: Path) -> Iterator[Path]:
    """GitPython runs the wrapper for this test; the overlaps it saw are in the returned file."""
    real = shutil.which("git")
    assert real is not None
    log = tmp_path / "overlaps"
    wrapper = tmp_path / "git"
    wrapper.write_text(WRAPPER.format(busy=tmp_path / "busy", log=log, git=real))
    wrapper.chmod(0o755)
    git.refresh(str(wrapper))
    try:
        yield log
    finally:
        git.refresh(real)


async def test_lanes_wanted_at_once_are_made_one_at_a_time(repo: Path, watched_git: Path) -> None:
    workspace = Workspace.create(repo, "lanes-at-once")
    lanes = Lanes(workspace, lambda path: LocalEnvironment(path, {}), shared=None)
    held = 0
    all_held = asyncio.Event()

    async def hold() -> Path:
        nonlocal held
        async with lanes.lane() as lane:
            held += 1
            if held == AT_ONCE:
                all_held.set()
            await all_held.wait()  # every lane is in use before any is given back
            return lane.path

    paths = await asyncio.gather(*(hold() for _ in range(AT_ONCE)))
    await asyncio.to_thread(lanes.remove)

    assert len(set(paths)) == AT_ONCE
    overlapped = await asyncio.to_thread(watched_git.exists)
    assert not overlapped, "git worktree add ran while another was running"
