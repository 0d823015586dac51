"""The state and JSON payloads behind `FakeGitHub`: files, pull requests, and GitHub's answers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from orchestrate.github.patch import parse_patch
from orchestrate.testing.fake_server import RecordedRequest, Response

DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
COMPARE_FILE_CAP = 300
"""A comparison lists "up to 300 changed files for the entire comparison":
https://docs.github.com/rest/commits/commits#compare-two-commits (PyGithub's `Comparison.files`:
"Only the first 300 changed files.")."""
PULL_FILE_CAP = 3000
""""Responses include a maximum of 3000 files":
https://docs.github.com/rest/pulls/pulls#list-pull-requests-files"""
PULL_COMMIT_CAP = 250
""""Lists a maximum of 250 commits for a pull request":
https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request"""
MAX_PER_PAGE = 100
"""`per_page` is "max 100" on every list route GitHub documents."""
INTEGRATION_DENIED = "Resource not accessible by integration"
"""GitHub's 403 message when an App installation token (GITHUB_TOKEN included) may not do
something: every write with the read-only token of a fork's `pull_request` run, and GET /user
(https://github.com/actions/create-github-app-token/issues/258 shows the body)."""
LINE_NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
"""GitHub's 422 error for a review comment on a line outside the diff (the body is quoted in
https://github.com/parkerbxyz/suggest-changes/issues/48)."""
REVIEW_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


def unprocessable(*errors: str, docs: str = DOCS) -> Response:
    """GitHub's 422 body, as it answers an invalid review."""
    body = {"message": "Unprocessable Entity", "errors": list(errors), "documentation_url": docs}
    return Response.json({**body, "status": "422"}, status=422)


def error(status: int, message: str, docs: str = "https://docs.github.com/rest") -> Response:
    """GitHub's error body for any other refusal (401, 403, 404)."""
    return Response.json(
        {"message": message, "documentation_url": docs, "status": str(status)}, status=status
    )


@dataclass(frozen=True)
class FakeFile:
    """One changed file as the pull request files and compare endpoints list it."""

    filename: str
    patch: str | None
    """None: GitHub omits the patch (binary or too large)."""
    status: str = "modified"

    def json(self) -> dict[str, Any]:
        """The file in GitHub's format; counts are taken from the patch."""
        lines = (self.patch or "").split("\n")
        adds = sum(1 for x in lines if x.startswith("+"))
        dels = sum(1 for x in lines if x.startswith("-"))
        data: dict[str, Any] = {
            "sha": hashlib.sha1(self.filename.encode()).hexdigest(),
            "filename": self.filename,
            "status": self.status,
            "additions": adds,
            "deletions": dels,
            "changes": adds + dels,
        }
        if self.patch is not None:
            data["patch"] = self.patch
        return data


@dataclass
class FakePull:
    """One pull request's state."""

    number: int
    title: str
    body: str
    base_sha: str
    commits: list[str]
    """Commits on the branch, oldest first; the last is the head."""
    files_at: dict[str, list[FakeFile]]
    """The pull request's whole diff at each head it has had."""
    head_repo: str | None
    author: str = "octocat"
    changed_files: int | None = None
    """What GitHub counts as changed when that is more than the files it lists (None: as listed)."""

    @property
    def head_sha(self) -> str:
        """The current head commit."""
        return self.commits[-1]


@dataclass(frozen=True)
class FakeToken:
    """Who a token acts as, and what it may do."""

    login: str
    """The login GitHub shows on what the token writes (`name[bot]` for an App)."""
    installation: bool = True
    """An App installation token (GITHUB_TOKEN is one); False for a personal access token."""
    read_only: bool = False
    """The token of a `pull_request` run from a fork: every write is refused."""


@dataclass
class Store:
    """Everything the fake holds, by pull request number."""

    pulls: dict[int, FakePull] = field(default_factory=dict)
    commit_files: dict[str, list[FakeFile]] = field(default_factory=dict)
    commit_messages: dict[str, str] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    review_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issue_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def between(self, base: str, head: str) -> tuple[str, list[FakeFile]]:
        """A comparison's status and every file it changes (before GitHub's cap)."""
        if base == head:
            return "identical", []
        for pull in self.pulls.values():
            if head not in pull.commits:
                continue
            if base == pull.base_sha:
                return "ahead", pull.files_at[head]
            if base in pull.commits:
                start, end = pull.commits.index(base), pull.commits.index(head)
                if start > end:
                    return "behind", []
                merged: dict[str, FakeFile] = {}
                for sha in pull.commits[start + 1 : end + 1]:
                    merged.update({f.filename: f for f in self.commit_files[sha]})
                return "ahead", list(merged.values())
            return "diverged", pull.files_at[head]
        return "diverged", self.commit_files.get(head, [])


USER_DOCS = "https://docs.github.com/rest/users/users#get-the-authenticated-user"


def whoami(request: RecordedRequest, token: FakeToken) -> Response:
    """GET /user answers a personal token and refuses an App's; GraphQL's `viewer` answers
    both, naming a bot without REST's `[bot]` suffix
    (https://github.com/palantir/policy-bot/releases/tag/1.4.1)."""
    if request.method == "POST" and request.path == "/graphql":
        query = (request.json() or {}).get("query", "")
        if "viewer" not in query:
            return Response.json({"errors": [{"message": "unsupported by the fake"}]})
        login = token.login.removesuffix("[bot]")
        kind = "Bot" if token.installation else "User"
        return Response.json({"data": {"viewer": {"login": login, "__typename": kind}}})
    if request.method != "GET":
        return error(404, "Not Found")
    if token.installation:
        return error(403, INTEGRATION_DENIED, docs=USER_DOCS)
    return Response.json(user_json(token.login))


def write_docs(path: str) -> str:
    """The documentation link GitHub puts in a refusal of a write to `path`."""
    if path.endswith("/reviews"):
        return "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
    if "/issues/comments/" in path:
        return "https://docs.github.com/rest/issues/comments#update-an-issue-comment"
    return "https://docs.github.com/rest/issues/comments#create-an-issue-comment"


def user_json(login: str) -> dict[str, Any]:
    """A user; logins ending in `[bot]` are bots, as on GitHub."""
    kind = "Bot" if login.endswith("[bot]") else "User"
    return {
        "login": login,
        "type": kind,
        "id": int(hashlib.sha1(login.encode()).hexdigest()[:7], 16),
    }


def invalid_comment(comments: list[dict[str, Any]], files: list[FakeFile]) -> str | None:
    """GitHub's error for the first comment it cannot place, or None if all can be placed."""
    by_path = {f.filename: parse_patch(f.filename, f.status, f.patch) for f in files}
    for comment in comments:
        patch = by_path.get(comment.get("path", ""))
        if patch is None:
            return "Path could not be resolved"
        line = comment.get("line")
        side = comment.get("side", "RIGHT")
        if side == "LEFT":
            valid = {pl.old_line for h in patch.hunks for pl in h.lines if pl.kind != "add"}
        else:
            valid = set(patch.commentable_lines())
        if not isinstance(line, int) or line not in valid:
            return LINE_NOT_IN_DIFF
    return None


@dataclass(frozen=True)
class Payloads:
    """GitHub's JSON for one repository served at `api_url`."""

    api_url: str
    repo: str

    def repository(self, full_name: str) -> dict[str, Any]:
        """A repository."""
        owner, name = full_name.split("/")
        return {
            "id": int(hashlib.sha1(full_name.encode()).hexdigest()[:7], 16),
            "name": name,
            "full_name": full_name,
            "owner": {"login": owner, "type": "Organization"},
            "private": False,
            "fork": full_name != self.repo,
            "default_branch": "main",
            "url": f"{self.api_url}/repos/{full_name}",
            "html_url": f"https://github.com/{full_name}",
        }

    def pull(self, pull: FakePull) -> dict[str, Any]:
        """A pull request."""
        base = f"{self.api_url}/repos/{self.repo}"
        head_repo = self.repository(pull.head_repo) if pull.head_repo else None
        return {
            "id": pull.number + 5000,
            "number": pull.number,
            "state": "open",
            "title": pull.title,
            "body": pull.body,
            "user": user_json(pull.author),
            "url": f"{base}/pulls/{pull.number}",
            "html_url": f"https://github.com/{self.repo}/pull/{pull.number}",
            "issue_url": f"{base}/issues/{pull.number}",
            "head": {"ref": "feature", "sha": pull.head_sha, "repo": head_repo},
            "base": {"ref": "main", "sha": pull.base_sha, "repo": self.repository(self.repo)},
            "commits": len(pull.commits),
            "changed_files": pull.changed_files or len(pull.files_at[pull.head_sha]),
        }

    def commit(self, sha: str, message: str | None = None) -> dict[str, Any]:
        """A commit, without its files."""
        return {
            "sha": sha,
            "url": f"{self.api_url}/repos/{self.repo}/commits/{sha}",
            "commit": {"message": message or f"commit {sha[:7]}"},
        }

    def issue_comment(self, comment_id: int, number: int, body: str, login: str) -> dict[str, Any]:
        """A conversation comment."""
        return {
            "id": comment_id,
            "url": f"{self.api_url}/repos/{self.repo}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{self.repo}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.api_url}/repos/{self.repo}/issues/{number}",
            "body": body,
            "user": user_json(login),
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
