"""`orchestrate trust`: let this repository's own `agents/` say where keys go and what is private."""

from __future__ import annotations

from pathlib import Path

from orchestrate.config.errors import display_path
from orchestrate.config.loader import load_config
from orchestrate.config.trust import forget, trust, trust_file, trust_state
from orchestrate.engine.session import repo_root
from orchestrate.exceptions import ConfigError


def trust_repo(repo: Path, drop: bool = False) -> None:
    """Record (or, with `drop`, forget) the user's trust in the repository's `agents/` as it is."""
    folder = repo_root(repo) / "agents"
    where = display_path(folder)
    if drop:
        done = forget(folder)
        print(f"{where}: {'no longer trusted' if done else 'was not trusted'}")
        return
    if not folder.is_dir():
        raise ConfigError(f"{repo_root(repo)} has no agents/ folder: there is nothing to trust")
    state = trust_state(folder)
    # Loaded first as it is trusted now: its errors stop here, and what trusting changes is said.
    ignored = load_config(repo_root(repo)).ignored
    record = trust(folder)
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    print(
        f"trusted {where} as it is now ({files} files, digest {record.digest[:12]}; "
        f"recorded in {trust_file()}); any change to it asks again"
    )
    if state == "trusted":
        print("it was already trusted as it is")
    elif ignored:
        print(f"now used: {', '.join(ignored)}")
