"""The environment a check sees: PATH, a scratch HOME, the locale, the user's listed variables.

Never `os.environ` whole: the parent process holds our provider keys and the user's tokens, and a
check (often written by a model) has no business with them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from orchestrate.exceptions import ConfigError
from orchestrate.privacy.masking import watched_key_envs

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
"""PATH when the parent has none."""
_LOCALE = ("LANG", "LANGUAGE", "LC_ALL")


def refuse_key_envs(names: Iterable[str], where: str) -> None:
    """`ConfigError` when `names` list a variable holding one of our keys (checks never get them)."""
    keys = sorted(set(names) & watched_key_envs())
    if keys:
        raise ConfigError(
            f"{where}: {', '.join(keys)} hold API keys or tokens, which checks never get "
            "(remove them from checks.env)"
        )


def import_path(worktree: Path) -> list[Path]:
    """The worktree's own code first: `src/` of a src layout, then the worktree itself."""
    src = worktree / "src"
    return [src, worktree] if src.is_dir() else [worktree]


def check_environ(
    home: Path,
    worktree: Path,
    passed: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of a check: nothing else of the parent's gets through.

    `passed` names variables the user lets through (their values from `environ`); a `PYTHONPATH`
    among them comes after the worktree's own entries.
    """
    source = os.environ if environ is None else environ
    refuse_key_envs(passed, "checks.env")
    env = {"PATH": source.get("PATH") or DEFAULT_PATH, "HOME": str(home)}
    for name, value in source.items():
        if name in _LOCALE or name.startswith("LC_"):
            env[name] = value
    for name in passed:
        if name in source:
            env[name] = source[name]
    own = [str(path) for path in import_path(worktree)]
    theirs = [part for part in env.get("PYTHONPATH", "").split(os.pathsep) if part]
    env["PYTHONPATH"] = os.pathsep.join([*own, *theirs])
    # Two edits of the same size within one second look alike to a cached .pyc (it keys on
    # mtime seconds and size): a check must never run the previous edit's bytecode.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
