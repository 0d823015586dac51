"""Which instructions file applies to a path, by the AGENTS.md standard's rule.

https://agents.md: "the closest AGENTS.md to the edited file wins"; a monorepo has one per
package and the nearest one up from a path applies (its monorepo guide:
https://www.mintlify.com/agentsmd/agents.md/guides/monorepos). A folder with no AGENTS.md may
hold Claude Code's CLAUDE.md instead, used in its place; at the repository's root,
`.github/copilot-instructions.md` (Copilot's repository-wide file) is the last fallback
(https://code.visualstudio.com/docs/agents/reference/custom-instructions-reference,
https://docs.github.com/en/copilot/how-tos/copilot-cli/customize-copilot/add-custom-instructions).

Files are found among the repository's files git knows of (tracked, or new and not ignored), so
vendored or ignored folders never count, and read once at a run's start: a worker that edits an
AGENTS.md during the run does not change what the others are told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from orchestrate.exceptions import RepoError

NAMES = ("AGENTS.md", "CLAUDE.md")
"""Per folder, in order of preference: the first found is that folder's instructions."""
COPILOT = ".github/copilot-instructions.md"
"""The root's fallback when the root has neither of `NAMES`."""
MAX_FILE_CHARS = 200_000
"""A larger instructions file is read this far (the budget cuts far below it anyway)."""


@dataclass(frozen=True)
class RuleFile:
    """One instructions file: where it is, the folder it governs, and its text."""

    path: str
    """Relative to the repository's root, `/`-separated."""
    folder: str
    """The folder it applies to (`""` for the root)."""
    text: str


@dataclass(frozen=True)
class RuleFiles:
    """Every folder's instructions file in one repository."""

    by_folder: dict[str, RuleFile]

    def nearest(self, path: str) -> RuleFile | None:
        """The file that applies to `path`: its folder's, else the nearest folder's up."""
        folder = PurePosixPath(path).parent
        while True:
            key = "" if str(folder) == "." else folder.as_posix()
            found = self.by_folder.get(key)
            if found is not None:
                return found
            if key == "":
                return None
            folder = folder.parent

    def for_paths(self, paths: list[str]) -> list[RuleFile]:
        """The files applying to `paths`, each once, the most specific (deepest) first."""
        found = {rule.path: rule for p in paths if (rule := self.nearest(p)) is not None}
        return sorted(found.values(), key=lambda rule: (-_depth(rule.folder), rule.path))

    def everything(self) -> list[RuleFile]:
        """Every file, the root's first, then by depth."""
        return sorted(self.by_folder.values(), key=lambda rule: (_depth(rule.folder), rule.path))


def _depth(folder: str) -> int:
    return 0 if folder == "" else folder.count("/") + 1


def _listed(root: Path) -> list[str]:
    """The repository's files git knows of (tracked, or untracked and not ignored)."""
    try:
        out = git.Repo(root).git.ls_files("-z", "--cached", "--others", "--exclude-standard")
    except (git.GitCommandError, git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
        raise RepoError(
            f"{root}: cannot list its files ({error}); is it a git repository?"
        ) from None
    return [name for name in out.split("\0") if name]


def _read(root: Path, path: str) -> str | None:
    try:
        with (root / path).open(encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_FILE_CHARS)
    except (FileNotFoundError, IsADirectoryError):
        return None  # listed by git but deleted in the working tree


def choose_rule_paths(present: Iterable[str]) -> dict[str, str]:
    """Of the repository's files `present`, each folder's instructions file, by folder (`""`
    for the root): AGENTS.md before CLAUDE.md, and the root's Copilot file when it has neither."""
    listed = set(present)
    chosen: dict[str, str] = {}
    for path in sorted(listed):
        name = PurePosixPath(path)
        if name.name not in NAMES:
            continue
        folder = "" if str(name.parent) == "." else name.parent.as_posix()
        if folder not in chosen:
            chosen[folder] = next(
                (
                    f"{folder}/{n}".lstrip("/")
                    for n in NAMES
                    if f"{folder}/{n}".lstrip("/") in listed
                ),
                path,
            )
    if "" not in chosen and COPILOT in listed:
        chosen[""] = COPILOT
    return chosen


def find_rule_files(root: Path) -> RuleFiles:
    """Every folder's instructions file under `root` (blocking: call it in a thread)."""
    by_folder: dict[str, RuleFile] = {}
    for folder, path in choose_rule_paths(_listed(root)).items():
        text = _read(root, path)
        if text is not None:
            by_folder[folder] = RuleFile(path, folder, text)
    return RuleFiles(by_folder)
