"""`repos.txt`: which repositories a `--repos` run works on, one per line.

A line is a folder (absolute, `~/...`, or relative to the file's own folder) holding a git
checkout, or `owner/name` of a GitHub repository, which is cloned. `#` starts a comment; blank
lines are skipped. A folder that exists wins over the `owner/name` reading of the same text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from orchestrate.exceptions import ConfigError

GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
"""`owner/name` as GitHub allows them: an owner of up to 39 letters, digits and hyphens."""


class RepoSpec(BaseModel):
    """One repository of a `--repos` run."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["local", "github"]
    """A folder on this machine, or a GitHub repository to clone."""
    target: str
    """The folder's absolute path, or `owner/name`."""

    @property
    def label(self) -> str:
        """How reports and progress lines name it."""
        return self.target


def _spec(text: str, base: Path) -> RepoSpec | None:
    folder = Path(text).expanduser()
    folder = folder if folder.is_absolute() else base / folder
    if folder.is_dir():
        return RepoSpec(kind="local", target=str(folder.resolve()))
    if GITHUB_NAME.match(text):
        return RepoSpec(kind="github", target=text)
    return None


def read_repos(path: Path) -> list[RepoSpec]:
    """The repositories `path` lists, in order; `ConfigError` naming the line for a bad one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"--repos: {path} does not exist; list one repository per line") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"--repos: cannot read {path} ({error})") from None
    specs: list[RepoSpec] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        spec = _spec(text, path.parent)
        if spec is None:
            raise ConfigError(
                f"{path}:{number}: {text!r} is neither a folder nor a GitHub owner/name; "
                "fix the line or remove it"
            )
        if spec.target in seen:
            raise ConfigError(
                f"{path}:{number}: {spec.target} is already listed on line {seen[spec.target]}; "
                "remove one"
            )
        seen[spec.target] = number
        specs.append(spec)
    if not specs:
        raise ConfigError(f"--repos: {path} lists no repository; add one per line")
    return specs
