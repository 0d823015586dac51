"""Reading a pull request through PyGithub: its metadata, its files, and what changed between two
of its commits. Everything read here is untrusted text written by the pull request's author."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from github.File import File
from github.PullRequest import PullRequest
from github.Repository import Repository
from pydantic import BaseModel

from github import Auth, Github, GithubException
from orchestrate.exceptions import GitHubError
from orchestrate.github.context import PullRequestContext
from orchestrate.github.marker import ReviewState
from orchestrate.github.patch import FilePatch, parse_patch

COMPARE_FILE_CAP = 300
"""A comparison lists "up to 300 changed files for the entire comparison"
(https://docs.github.com/rest/commits/commits#compare-two-commits; PyGithub's `Comparison.files`:
"Only the first 300 changed files."). A list that long may be cut, so it is not trusted."""
PULL_FILE_CAP = 3000
""""Responses include a maximum of 3000 files"
(https://docs.github.com/rest/pulls/pulls#list-pull-requests-files)."""
PER_PAGE = 100
"""The most items a list page holds ("max 100"): fewer calls for big pull requests."""

_HINTS: dict[int, str] = {
    401: "GitHub rejected the token; check GITHUB_TOKEN",
    403: (
        "the token may not do this; give the workflow `permissions: pull-requests: write` "
        "(a fork's `pull_request` run only ever gets a read-only token)"
    ),
    404: "not found; check --repo/--pr and that the token can see the repository",
}


class PullRequestInfo(BaseModel):
    """What the review needs to know about the pull request itself."""

    number: int
    """Pull request number."""
    title: str
    """Title (untrusted)."""
    body: str
    """Description (untrusted)."""
    head_sha: str
    """Commit the review is about."""
    base_sha: str
    """Commit the pull request is compared against."""
    repo: str
    """`owner/name` of the base repository."""
    head_repo: str | None
    """`owner/name` of the head repository; None when the fork was deleted."""
    html_url: str
    """Where people read it."""
    changed_files: int = 0
    """Files GitHub counts as changed; more than it lists when over PULL_FILE_CAP."""

    @property
    def is_fork(self) -> bool:
        """Head and base live in different repositories."""
        return self.head_repo != self.repo


class Changes(BaseModel):
    """The files to review and whether they are the whole pull request or only what is new."""

    scope: Literal["full", "incremental", "none"]
    """`incremental`: only commits after the last reviewed one; `none`: nothing new."""
    files: list[FilePatch]
    """Patches to review."""
    pr_files: list[FilePatch]
    """The pull request's whole diff: the lines comments may be placed on."""
    since_sha: str | None = None
    """Last reviewed commit, for incremental scope."""
    retried: list[str] = []
    """Files taken again because an earlier run could not review them."""
    note: str | None = None
    """Why more was reviewed than the new commits (GitHub's comparison was cut short)."""
    unlisted: int = 0
    """Changed files GitHub did not list at all (past PULL_FILE_CAP): never reviewed."""


def github_error(error: GithubException, action: str) -> GitHubError:
    """One actionable line for a failed API call."""
    data = error.data if isinstance(error.data, dict) else {}
    detail = data.get("message") or error.message or "no message"
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        detail = f"{detail}: {'; '.join(str(e) for e in errors)}"
    hint = _HINTS.get(error.status, "retry later or check the GitHub status page")
    if "rate limit" in str(detail).lower():
        hint = "GitHub's rate limit was hit; run again later"
    return GitHubError(f"GitHub refused to {action} ({error.status} {detail}); {hint}")


def connect(context: PullRequestContext) -> Github:
    """A client for the context's API. No retries or pacing sleeps: failures are ours to report."""
    return Github(
        base_url=context.api_url,
        auth=Auth.Token(context.token),
        retry=None,
        lazy=True,
        per_page=PER_PAGE,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


class PullRequestReader:
    """Reads one pull request."""

    def __init__(self, client: Github, repo: str, number: int) -> None:
        self.repository: Repository = client.get_repo(repo)
        self.pull: PullRequest = self.repository.get_pull(number)
        self._number = number

    def info(self) -> PullRequestInfo:
        """The pull request's metadata (one GET)."""
        try:
            pull = self.pull
            head_repo = pull.head.repo
            return PullRequestInfo(
                number=pull.number,
                title=pull.title or "",
                body=pull.body or "",
                head_sha=pull.head.sha,
                base_sha=pull.base.sha,
                repo=pull.base.repo.full_name,
                head_repo=head_repo.full_name if head_repo is not None else None,
                html_url=pull.html_url,
                changed_files=pull.changed_files,
            )
        except GithubException as error:
            raise github_error(error, f"read pull request #{self._number}") from error

    def files(self) -> list[FilePatch]:
        """Every file the pull request changes, following pagination."""
        try:
            return _patches(self.pull.get_files())
        except GithubException as error:
            raise github_error(error, f"list the files of pull request #{self._number}") from error

    def commit_messages(self) -> list[tuple[str, str]]:
        """(sha, message) of the pull request's commits; GitHub lists at most 250
        (https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request)."""
        try:
            return [(c.sha, c.commit.message or "") for c in self.pull.get_commits()]
        except GithubException as error:
            raise github_error(
                error, f"list the commits of pull request #{self._number}"
            ) from error

    def changes(self, info: PullRequestInfo, state: ReviewState) -> Changes:
        """What to review: all files, or those changed since the last reviewed head (when it is
        an ancestor of this one) plus the files earlier runs could not review."""
        last_sha = state.head_sha
        if last_sha == info.head_sha and not state.pending:
            return Changes(scope="none", files=[], pr_files=[], since_sha=last_sha)
        pr_files = self.files()
        unlisted = max(0, info.changed_files - len(pr_files))
        newer = None if last_sha is None else self._since(last_sha, info.head_sha)
        if newer is None or len(newer) >= COMPARE_FILE_CAP:
            note = None if newer is None else _capped_note(last_sha)
            return Changes(
                scope="full", files=pr_files, pr_files=pr_files, note=note, unlisted=unlisted
            )
        # A merge of the base branch shows up in the comparison; only the PR's files are reviewed.
        by_path = {patch.path: patch for patch in pr_files}
        files = [patch for patch in newer if patch.path in by_path]
        taken = {patch.path for patch in files}
        retried = [path for path in state.pending if path in by_path and path not in taken]
        return Changes(
            scope="incremental",
            files=[*files, *(by_path[path] for path in retried)],
            pr_files=pr_files,
            since_sha=last_sha,
            retried=retried,
            unlisted=unlisted,
        )

    def _since(self, last_sha: str, head_sha: str) -> list[FilePatch] | None:
        try:
            comparison = self.repository.compare(last_sha, head_sha)
            if comparison.status not in ("ahead", "identical"):
                return None
            return _patches(comparison.files)
        except GithubException as error:
            if error.status == 404:
                return None  # the old commit is gone (force push and garbage collection)
            raise github_error(error, f"compare {last_sha[:7]}...{head_sha[:7]}") from error


def _capped_note(last_sha: str | None) -> str:
    since = (last_sha or "")[:7]
    return (
        f"GitHub lists at most {COMPARE_FILE_CAP} files of a comparison, and the commits since "
        f"`{since}` reach that, so the whole pull request was reviewed again."
    )


def _patches(files: Iterable[File]) -> list[FilePatch]:
    return [
        parse_patch(f.filename, f.status, f.patch, additions=f.additions, deletions=f.deletions)
        for f in files
    ]
