"""`orchestrate prune`: tidy up after finished runs, and say what was done and what was kept."""

from __future__ import annotations

from pathlib import Path

from orchestrate.engine.prune import prune_finished


def prune(repo: Path, as_json: bool = False) -> None:
    """Prune `repo`'s finished runs and print one line for each kind of outcome (or JSON)."""
    done = prune_finished(repo)
    if as_json:
        print(done.model_dump_json(indent=2))
        return
    if done.removed:
        print(
            f"removed worktree and saved progress of {len(done.removed)} finished runs "
            f"(branches kept): {', '.join(done.removed)}"
        )
    if done.kept_dirty:
        print(
            f"kept {', '.join(done.kept_dirty)}: uncommitted changes in the worktree; "
            "commit or discard them, then prune again"
        )
    if done.unfinished:
        print(
            f"kept {', '.join(done.unfinished)}: unfinished, resume with "
            "`orchestrate run --resume ID` or from the TUI's Past runs"
        )
    if not (done.removed or done.kept_dirty or done.unfinished):
        print("nothing to prune")
