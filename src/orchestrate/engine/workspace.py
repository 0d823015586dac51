"""A run's private git branch and worktree, kept apart from the user's working tree.

The worktree lives where `run_files` says, outside `.git` and outside the user's checkout; the
user's checkout, index and uncommitted changes are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import git
from pydantic import BaseModel, Field

from orchestrate.engine.run_files import RepoFiles, RunFiles
from orchestrate.exceptions import RepoError

FALLBACK_NAME = "orchestrate"
FALLBACK_EMAIL = "orchestrate@localhost"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
# Paths from models must never be read as globs or pathspec magic.
_LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}
_DIFF_FLAGS = ("--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")


class CommitInfo(BaseModel):
    """One commit the run made on its branch."""

    sha: str
    """Full commit id."""
    title: str
    """First line of the message."""
    trailers: dict[str, str] = Field(default_factory=dict)
    """Git trailers (`Key: value`); the last one wins when a key repeats."""


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID.fullmatch(run_id) or ".." in run_id or run_id.endswith(".lock"):
        raise RepoError(
            f"run id {run_id!r} cannot name a branch: use letters, digits, '.', '_' and '-'"
        )


def _open_repo(repo: Path) -> git.Repo:
    try:
        return git.Repo(repo, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(
            f"{repo} is not a git repository: run `git init` there or pass --repo"
        ) from None


def _check_head(handle: git.Repo, repo: Path) -> str:
    if handle.head.is_detached:
        raise RepoError(
            f"HEAD in {repo} is detached: check out a branch (`git switch <branch>`) first"
        )
    if not handle.head.is_valid():
        raise RepoError(
            f"{repo} has no commits yet: make a first commit (`git commit --allow-empty -m init`)"
        )
    return handle.head.commit.hexsha


def head_commit(repo: Path) -> str:
    """The commit a run made now would branch from; `RepoError` if there is none to use."""
    handle = _open_repo(repo)
    try:
        return _check_head(handle, repo)
    finally:
        handle.close()


def _common_dir(handle: git.Repo) -> Path:
    return Path(handle.common_dir).resolve()


def _committer_env(cmd: git.Git) -> dict[str, str]:
    """Identity for commits when git has none configured; the user's config stays unchanged."""
    env: dict[str, str] = {}
    for role in ("AUTHOR", "COMMITTER"):
        for key, fallback in (("name", FALLBACK_NAME), ("email", FALLBACK_EMAIL)):
            var = f"GIT_{role}_{key.upper()}"
            configured = cmd.config("--get", f"user.{key}", with_exceptions=False)
            if not os.environ.get(var) and not configured:
                env[var] = fallback
    return env


def _format_message(title: str, body: str, trailers: dict[str, str]) -> str:
    for key in trailers:
        if not _TRAILER_KEY.fullmatch(key):
            raise ValueError(f"bad trailer key {key!r}: use letters, digits and '-'")
    head = " ".join(title.split()) or "orchestrate change"
    lines = [f"{key}: {' '.join(value.split())}" for key, value in trailers.items()]
    parts = [head, body.strip(), "\n".join(lines)]
    return "\n\n".join(part for part in parts if part) + "\n"


def _parse_trailers(block: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            found[key.strip()] = value.strip()
    return found


class Workspace:
    """A run's branch `orchestrate/<run_id>` checked out in its own worktree."""

    def __init__(self, repo_root: Path, files: RunFiles, base_sha: str) -> None:
        self.repo_root = repo_root
        """The user's repository (its working tree, or git dir when bare)."""
        self.files = files
        """Where this run's files live (worktree, saved progress, scratch home)."""
        self.path = files.worktree
        """Root of the run's worktree: every edit and check happens here."""
        self.run_id = files.run_id
        self.base_sha = base_sha
        """The commit the run branched from."""
        self._git = git.Git(self.path)

    @property
    def branch(self) -> str:
        return self._branch(self.run_id)

    @staticmethod
    def _branch(run_id: str) -> str:
        return f"orchestrate/{run_id}"

    @staticmethod
    def _base_ref(run_id: str) -> str:
        # A ref, not a file in the worktree's admin dir, so the base survives `git worktree prune`.
        return f"refs/orchestrate/bases/{run_id}"

    @classmethod
    def create(
        cls, repo: Path, run_id: str, continues: str | None = None, start: str | None = None
    ) -> Workspace:
        """Branch from HEAD and add a worktree for it; the user's checkout is left as it is.

        With `continues` (an earlier run's id), branch from that run's branch instead and keep its
        base, so the diff and the review cover the earlier run's work and this one's together.
        With `start` (a commit), branch from it: a resumed plan's later tasks start where its
        first ones did, whatever the user checked out since.
        """
        _check_run_id(run_id)
        handle = _open_repo(repo)
        try:
            base = start or _check_head(handle, repo)
            common = _common_dir(handle)
            root = Path(handle.working_tree_dir or common)
        finally:
            handle.close()
        files = RepoFiles.for_common_dir(common).run(run_id)
        path = files.worktree
        main = git.Git(root)
        start = base
        if continues is not None:
            start, base = cls._continued(main, continues)
        branch = cls._branch(run_id)
        if main.rev_parse("--verify", "-q", f"refs/heads/{branch}", with_exceptions=False):
            raise RepoError(
                f"branch {branch} already exists in {root}: resume that run or pick another run id"
            )
        if path.exists():
            raise RepoError(f"{path} already exists: remove it or pick another run id")
        path.parent.mkdir(parents=True, exist_ok=True)
        # The base ref first: a process killed between the two leaves a run `open` can finish
        # making (a branch without its base could be neither opened nor made again).
        main.update_ref(cls._base_ref(run_id), base)
        main.worktree("add", "--quiet", "-b", branch, str(path), start)
        return cls(root, files, base)

    @classmethod
    def _continued(cls, main: git.Git, run_id: str) -> tuple[str, str]:
        """The head of run `run_id`'s branch and its base."""
        _check_run_id(run_id)
        head = main.rev_parse(
            "--verify", "-q", f"refs/heads/{cls._branch(run_id)}", with_exceptions=False
        )
        base = main.rev_parse("--verify", "-q", cls._base_ref(run_id), with_exceptions=False)
        if not head or not base:
            raise RepoError(
                f"run {run_id} has no branch to build on (deleted or never made): "
                "give the task again as a new run"
            )
        return str(head), str(base)

    @classmethod
    def open(cls, repo: Path, run_id: str) -> Workspace:
        """Reattach to a run's workspace, re-adding its worktree if it was pruned."""
        _check_run_id(run_id)
        handle = _open_repo(repo)
        try:
            common = _common_dir(handle)
            root = Path(handle.working_tree_dir or common)
        finally:
            handle.close()
        main = git.Git(root)
        branch = cls._branch(run_id)
        base = main.rev_parse("--verify", "-q", cls._base_ref(run_id), with_exceptions=False)
        has_branch = main.rev_parse("--verify", "-q", f"refs/heads/{branch}", with_exceptions=False)
        if not base or not has_branch:
            raise RepoError(f"no run {run_id!r} in {root}: check the run id or start a new run")
        files = RepoFiles.for_common_dir(common).run(run_id)
        if not (files.worktree / ".git").exists():
            main.worktree("prune")
            files.worktree.parent.mkdir(parents=True, exist_ok=True)
            main.worktree("add", "--quiet", str(files.worktree), branch)
        return cls(root, files, base)

    def own_refs(self) -> list[str]:
        """The refs only this run writes: its branch and its base."""
        return [f"refs/heads/{self.branch}", self._base_ref(self.run_id)]

    def head(self) -> str:
        """The branch's current commit."""
        return str(self._git.rev_parse("HEAD"))

    def commit(
        self, title: str, body: str, trailers: dict[str, str], paths: list[str] | None = None
    ) -> str | None:
        """Stage `paths` (or every change) and commit; returns the sha, or None if nothing changed.

        Hooks and signing are skipped: these are unattended commits on a private branch, and the
        run's own checks are its gate.
        """
        if paths is None:
            self._git.add("-A", env=_LITERAL)
        else:
            present = [p for p in paths if self._exists_or_tracked(p)]
            if present:
                self._git.add("-A", "--", *present, env=_LITERAL)
        staged = self._git.diff(
            "--cached", "--quiet", with_exceptions=False, with_extended_output=True
        )
        if staged[0] == 0:
            return None
        message = _format_message(title, body, trailers)
        self._git.commit(
            "--no-verify",
            "--no-gpg-sign",
            "--cleanup=whitespace",
            "-m",
            message,
            env=_committer_env(self._git),
        )
        return self.head()

    def _exists_or_tracked(self, rel: str) -> bool:
        if os.path.lexists(self.path / rel):
            return True
        return bool(self._git.ls_files("--", rel, env=_LITERAL))

    def _snapshot_tree(self) -> str:
        """A tree of the worktree as it is now, untracked files included, via a scratch index."""
        real_index = Path(str(self._git.rev_parse("--git-path", "index")))
        if not real_index.is_absolute():
            real_index = self.path / real_index
        with tempfile.TemporaryDirectory(prefix="orchestrate-index-") as tmp:
            scratch = Path(tmp) / "index"
            env = {"GIT_INDEX_FILE": str(scratch)}
            if real_index.exists():
                shutil.copyfile(real_index, scratch)
            else:
                self._git.read_tree("HEAD", env=env)
            self._git.add("-A", env=env)
            return str(self._git.write_tree(env=env))

    def _target(self, uncommitted: bool) -> str:
        return self._snapshot_tree() if uncommitted else "HEAD"

    def diff(self, from_sha: str | None = None, uncommitted: bool = False) -> str:
        """Unified diff from `from_sha` (default: the base) to HEAD, or to the worktree as it is."""
        start = from_sha or self.base_sha
        text = self._git.diff(
            *_DIFF_FLAGS, start, self._target(uncommitted), strip_newline_in_stdout=False
        )
        return str(text)

    def changed_files(self, from_sha: str | None = None, uncommitted: bool = False) -> list[str]:
        """Paths changed since `from_sha` (default: the base), sorted."""
        start = from_sha or self.base_sha
        out = self._git.diff("--name-only", "-z", "--no-renames", start, self._target(uncommitted))
        return sorted(p for p in str(out).split("\0") if p)

    def commits(self) -> list[CommitInfo]:
        """The run's commits since the base, oldest first."""
        fmt = "%H%x1f%s%x1f%(trailers:only,unfold)%x1e"
        out = str(self._git.log("--reverse", f"--format={fmt}", f"{self.base_sha}..HEAD"))
        found: list[CommitInfo] = []
        for record in out.split("\x1e"):
            fields = record.strip("\n").split("\x1f")
            if len(fields) == 3:
                sha, title, block = fields
                found.append(CommitInfo(sha=sha, title=title, trailers=_parse_trailers(block)))
        return found

    def remove(self, keep_branch: bool = True) -> None:
        """Delete the worktree; with `keep_branch=False` also the branch and its base ref."""
        main = git.Git(self.repo_root)
        if (self.path / ".git").exists():
            main.worktree("remove", "--force", str(self.path))
        main.worktree("prune")
        if not keep_branch:
            main.branch("-D", self.branch)
            main.update_ref("-d", self._base_ref(self.run_id))
