"""Git's lock files that a killed run left behind, and clearing them safely on resume.

Git takes a lock by creating `<file>.lock` and drops it by renaming or deleting it; a process
killed in between (a run killed inside `git add` or `git commit`) leaves the lock, and every
later git command there fails ("Unable to create '.../index.lock': File exists"). Only a run's
own locks are cleared, and only by the process holding that run's lock (`run_lock`), so no
other orchestrate process is working on it: its worktree's index and HEAD, its branch and its
base ref. A git process the killed run started may outlive it for a moment, so each lock gets a
short grace to go away on its own first. Locks shared with the user's checkout (its index,
`packed-refs`, `config`) are never touched: git's own message names them.
"""

from __future__ import annotations

import time
from pathlib import Path

from orchestrate.engine.workspace import Workspace

RELEASE_GRACE_S = 2.0
"""How long a lock may take to go away on its own (an orphaned git finishing) before it is
cleared: git holds its locks for milliseconds unless a filter or hook is running."""
_POLL_S = 0.05


def worktree_git_dir(worktree: Path) -> Path | None:
    """The worktree's own git dir (`<common>/worktrees/<name>`), read from its `.git` file."""
    try:
        text = (worktree / ".git").read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    prefix = "gitdir: "
    first = text.splitlines()[0] if text else ""
    if not first.startswith(prefix):
        return None
    path = Path(first.removeprefix(prefix).strip())
    return path if path.is_absolute() else (worktree / path).resolve()


def run_git_locks(workspace: Workspace) -> list[Path]:
    """The lock files that exist now among those only this run's git commands take."""
    own = worktree_git_dir(workspace.path)
    if own is None or not own.is_dir():
        return []
    common = own.parent.parent  # <common>/worktrees/<name>
    candidates = sorted(own.rglob("*.lock"))  # index.lock, HEAD.lock, logs/HEAD.lock...
    for ref in workspace.own_refs():
        candidates += [common / f"{ref}.lock", common / "logs" / f"{ref}.lock"]
    return [path for path in candidates if path.is_file()]


def clear_stale_locks(locks: list[Path], grace_s: float = RELEASE_GRACE_S) -> list[Path]:
    """Wait up to `grace_s` for `locks` to go, then delete those still there; returns them."""
    deadline = time.monotonic() + grace_s
    left = [path for path in locks if path.exists()]
    while left and time.monotonic() < deadline:
        time.sleep(_POLL_S)
        left = [path for path in left if path.exists()]
    for path in left:
        path.unlink(missing_ok=True)
    return left
