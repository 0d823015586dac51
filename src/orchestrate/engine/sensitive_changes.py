"""Changes a run never commits on a model's word: a file that runs code on someone's behalf
later (a CI workflow, a git hook, a CI config) or an edit that writes one of our keys.

Such an edit is flagged in the report and committed only once the user said yes: the engine asks
its `ChangeApproval` hook (the batch CLI answers from `--allow-sensitive-changes`; by default
nobody said yes); refused, the subtask fails with nothing committed and says how to allow it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from orchestrate.privacy.masking import keys_in

ALLOW_FLAG = "--allow-sensitive-changes"

_RUNS_LATER: tuple[tuple[str, str], ...] = (
    (".github/workflows/*", "a GitHub Actions workflow"),
    (".github/actions/*", "a GitHub Actions action"),
    ("action.yml", "a GitHub Action"),
    ("action.yaml", "a GitHub Action"),
    (".gitlab-ci.yml", "a GitLab CI file"),
    (".gitlab/ci/*", "a GitLab CI file"),
    (".circleci/*", "a CircleCI file"),
    ("Jenkinsfile", "a Jenkins pipeline"),
    (".travis.yml", "a Travis CI file"),
    ("azure-pipelines.yml", "an Azure Pipelines file"),
    ("bitbucket-pipelines.yml", "a Bitbucket Pipelines file"),
    (".buildkite/*", "a Buildkite pipeline"),
    (".drone.yml", "a Drone CI file"),
    (".githooks/*", "a git hook"),
    (".husky/*", "a git hook (husky)"),
    (".pre-commit-config.yaml", "a pre-commit hook config"),
    ("lefthook.yml", "a git hook config (lefthook)"),
)
"""Paths (from the repository root) of files that run commands later, with what they are."""

ChangeApproval = Callable[[str, Sequence[str]], Awaitable[str | None]]
"""Asked (run id, one line per flagged change) before an edit with them is committed: who said
yes, or None for no."""


def runs_later(path: str) -> str | None:
    """What `path` is when it is a file that runs commands later, else None."""
    posix = PurePosixPath(path.replace("\\", "/")).as_posix()
    return next((what for glob, what in _RUNS_LATER if fnmatchcase(posix, glob)), None)


def sensitive_changes(
    before: Mapping[str, str | None], after: Mapping[str, str | None]
) -> list[str]:
    """One line per flagged change between two views of the same files."""
    flagged: list[str] = []
    for path, text in after.items():
        old = before.get(path)
        if text == old:
            continue
        what = runs_later(path)
        if what is not None:
            flagged.append(f"{path}: {'deleted' if text is None else 'changes'} {what}")
        added = set((text or "").splitlines()) - set((old or "").splitlines())
        names = keys_in("\n".join(sorted(added)))
        if names:
            flagged.append(f"{path}: writes the value of {', '.join(names)}")
    return flagged


class BatchChangePolicy:
    """The batch CLI's answer: yes only with `--allow-sensitive-changes`."""

    def __init__(self, allow: bool) -> None:
        self.allow = allow

    async def __call__(self, run_id: str, changes: Sequence[str]) -> str | None:
        return ALLOW_FLAG if self.allow else None


async def refuse_changes(run_id: str, changes: Sequence[str]) -> str | None:
    """The engine's default when nobody was given to ask."""
    return None
