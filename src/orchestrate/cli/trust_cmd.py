"""`orchestrate trust`: let this repository's own `agents/` say where keys go and what is private."""

from __future__ import annotations

from pathlib import Path

from orchestrate.config.errors import display_path
from orchestrate.config.loader import load_config
from orchestrate.config.trust import forget, trust, trust_file, trust_state
from orchestrate.engine.session import repo_root
from orchestrate.exceptions import ConfigError
from orchestrate.repo_rules.files import find_rule_files
from orchestrate.repo_rules.trust import trust_rules


def trust_repo(repo: Path, drop: bool = False) -> None:
    """Record (or, with `drop`, forget) the user's trust in the repository's `agents/` and its
    instructions files (AGENTS.md, CLAUDE.md, .github/copilot-instructions.md) as they are."""
    root = repo_root(repo)
    folder = root / "agents"
    if drop:
        done = [forget(folder), forget(root)]
        print(f"{display_path(root)}: {'no longer trusted' if any(done) else 'was not trusted'}")
        return
    rules = find_rule_files(root)
    if not folder.is_dir() and not rules.by_folder:
        raise ConfigError(
            f"{root} has no agents/ folder and no AGENTS.md, CLAUDE.md or "
            ".github/copilot-instructions.md: there is nothing to trust"
        )
    if folder.is_dir():
        _trust_agents(root, folder)
    if rules.by_folder:
        count = trust_rules(root)
        names = ", ".join(sorted(rule.path for rule in rules.by_folder.values()))
        print(
            f"trusted its instructions files as they are now ({count}: {names}): they are "
            "instructions to the models, and the checks they name are yours; any change asks again"
        )


def _trust_agents(root: Path, folder: Path) -> None:
    where = display_path(folder)
    state = trust_state(folder)
    # Loaded first as it is trusted now: its errors stop here, and what trusting changes is said.
    ignored = load_config(root).ignored
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
