"""Which git lock files a resume clears: only the run's own, never the user's checkout's."""

from __future__ import annotations

from pathlib import Path

from tests.engine.test_workspace import init_repo

from orchestrate.engine.git_locks import clear_stale_locks, run_git_locks, worktree_git_dir
from orchestrate.engine.workspace import Workspace


def test_only_the_runs_own_locks_are_found_and_cleared(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    workspace = Workspace.create(repo, "r1")
    other = Workspace.create(repo, "r2")
    own = worktree_git_dir(workspace.path)
    assert own is not None and own.parent.name == "worktrees"
    common = own.parent.parent
    mine = [
        own / "index.lock",
        own / "HEAD.lock",
        common / "refs" / "heads" / "orchestrate" / "r1.lock",
        common / "refs" / "orchestrate" / "bases" / "r1.lock",
    ]
    theirs = [
        common / "index.lock",  # the user's checkout
        common / "packed-refs.lock",
        common / "config.lock",
        common / "refs" / "heads" / "main.lock",
        common / "refs" / "heads" / "orchestrate" / "r2.lock",  # another run's
    ]
    other_own = worktree_git_dir(other.path)
    assert other_own is not None
    theirs.append(other_own / "index.lock")
    for path in mine + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    found = run_git_locks(workspace)

    assert sorted(found) == sorted(mine)
    assert sorted(clear_stale_locks(found, grace_s=0)) == sorted(mine)
    assert not any(path.exists() for path in mine)
    assert all(path.exists() for path in theirs)


def test_a_worktree_without_its_git_file_has_no_locks_to_clear(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    workspace = Workspace.create(repo, "r1")
    (workspace.path / ".git").unlink()
    assert run_git_locks(workspace) == []
