"""`orchestrate` / `orchestrate tui`: open the interactive app on a repository."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestrate.exceptions import ConfigError, RepoError


def require_git_repo(repo: Path) -> None:
    """Fail in one line, before the app and the engine load, when `repo` is not in a git repo."""
    import git

    try:
        git.Repo(repo, search_parent_directories=True).close()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(
            f"{repo.resolve()} is not a git repository: run `git init` there, "
            "or pass --repo with one (`orchestrate tui --repo PATH`)"
        ) from None


def open_tui(repo: Path, agents: Path | None = None) -> None:
    """Check the repo, the terminal and config first (one-line errors, exit 2), then run the
    app until it quits; print what it says on the way out (how to resume a run it stopped)."""
    require_git_repo(repo)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConfigError(
            "the interactive app needs a terminal: run it in one, or use `orchestrate run plan.md`"
        )
    # Textual and the engine load only here, so `orchestrate --help` and other commands stay fast.
    from orchestrate.engine.session import Session
    from orchestrate.tui.app import OrchestrateApp

    with Session.open(repo, agents_dir=agents) as session:
        said = OrchestrateApp(session).run()
    if said:
        print(said)
