"""Where a run's files live: the one place that knows, outside the repository and its checkout.

Every run of a repository keeps its worktree, saved progress, paid answers and scratch home under
`<user state dir>/orchestrate/repos/<name>-<digest>/` (`~/.local/state/...` on Linux; set
`XDG_STATE_HOME` to move it). The digest is of the repository's git common dir, so every
checkout of one repository shares its runs. Nothing lives under `.git` or in the user's working
tree: a check that walks up from its worktree, or runs `git rev-parse --git-common-dir`, never
lands in the user's checkout by way of the worktree's own location.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import git
import platformdirs

from orchestrate.exceptions import RepoError

APP_NAME = "orchestrate"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def state_root() -> Path:
    """The user's state directory for orchestrate (platformdirs: XDG on Linux)."""
    return platformdirs.user_state_path(APP_NAME)


def common_dir(repo: Path) -> Path:
    """The git common dir of the repository holding `repo` (one-line `RepoError` if none)."""
    try:
        handle = git.Repo(repo, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(
            f"{repo} is not a git repository: run `git init` there or pass --repo"
        ) from None
    try:
        return Path(handle.common_dir).resolve()
    finally:
        handle.close()


@dataclass(frozen=True)
class RunFiles:
    """The files of one run."""

    run_id: str
    worktree: Path
    """The run's git worktree (its branch checked out): every edit and check happens here."""
    state: Path
    """Saved progress (JSON), rewritten after every step."""
    responses: Path
    """Answers already paid for, replayed by a resume (JSON lines)."""
    home: Path
    """Scratch `HOME` for the run's checks, so they never see the user's."""
    lock: Path
    """Held (flock) by the one process carrying the run out (`run_lock`)."""
    lanes: Path
    """Worktrees where subtasks are worked and checked side by side (`engine/lanes.py`)."""


@dataclass(frozen=True)
class RepoFiles:
    """The folder holding every run of one repository."""

    root: Path

    @classmethod
    def for_common_dir(cls, common: Path) -> RepoFiles:
        """The folder of the repository whose git common dir is `common`."""
        common = common.resolve()
        name = common.parent.name if common.name == ".git" else common.name
        slug = _UNSAFE.sub("-", name).strip("-.")[:40] or "repo"
        digest = hashlib.sha256(str(common).encode("utf-8", "surrogateescape")).hexdigest()[:12]
        return cls(state_root() / "repos" / f"{slug}-{digest}")

    @classmethod
    def of(cls, repo: Path) -> RepoFiles:
        """The folder of the repository holding `repo`."""
        return cls.for_common_dir(common_dir(repo))

    @property
    def runs(self) -> Path:
        """Saved progress and paid answers, one pair of files per run."""
        return self.root / "runs"

    def run(self, run_id: str) -> RunFiles:
        """The files of run `run_id` (they need not exist yet)."""
        return RunFiles(
            run_id=run_id,
            worktree=self.root / "worktrees" / run_id,
            state=self.runs / f"{run_id}.json",
            responses=self.runs / f"{run_id}.responses.jsonl",
            home=self.root / "homes" / run_id,
            lock=self.runs / f"{run_id}.lock",
            lanes=self.root / "lanes" / run_id,
        )

    @property
    def batches(self) -> Path:
        """Each plan's tasks and their run ids (`batch_record`), and the plan's lock."""
        return self.root / "batches"

    @property
    def plans(self) -> Path:
        """Plans dry runs saved, for `orchestrate run --plan FILE`."""
        return self.root / "plans"

    def saved_runs(self) -> list[RunFiles]:
        """Every run with saved progress, by id."""
        return [self.run(path.stem) for path in sorted(self.runs.glob("*.json"))]


def fleets_root() -> Path:
    """Each `--repos` run's record and lock (`fleet.record`): one plan over many repositories."""
    return state_root() / "fleets"


def clone_path(full_name: str) -> Path:
    """Where `--repos` keeps its own clone of GitHub repository `owner/name`: a checkout the run
    branches from (its worktrees and progress live under `RepoFiles` like any repository's)."""
    owner, _, name = full_name.partition("/")
    return state_root() / "clones" / _UNSAFE.sub("-", owner) / _UNSAFE.sub("-", name)


def cloud_batches_root() -> Path:
    """Batches submitted to a vendor's Batch API and not yet done with (`batching.pending`), kept
    so a process that dies while one runs polls it again instead of paying for it twice."""
    return state_root() / "cloud-batches"
