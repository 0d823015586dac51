"""The state and JSON payloads behind `FakeGitHub`: files, pull requests, and GitHub's answers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from orchestrate.github.patch import parse_patch
from orchestrate.testing.fake_server import Response

DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
REVIEW_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


def unprocessable(*errors: str, docs: str = DOCS) -> Response:
    """GitHub's 422 body, as it answers an invalid review."""
    body = {"message": "Unprocessable Entity", "errors": list(errors), "documentation_url": docs}
    return Response.json({**body, "status": "422"}, status=422)


def error(status: int, message: str) -> Response:
    """GitHub's error body for any other refusal (401, 404)."""
    docs = "https://docs.github.com/rest"
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

    @property
    def head_sha(self) -> str:
        """The current head commit."""
        return self.commits[-1]


@dataclass
class Store:
    """Everything the fake holds, by pull request number."""

    pulls: dict[int, FakePull] = field(default_factory=dict)
    commit_files: dict[str, list[FakeFile]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    review_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issue_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


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
            return "Line could not be resolved"
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
            "changed_files": len(pull.files_at[pull.head_sha]),
        }

    def commit(self, sha: str) -> dict[str, Any]:
        """A commit, without its files."""
        return {
            "sha": sha,
            "url": f"{self.api_url}/repos/{self.repo}/commits/{sha}",
            "commit": {"message": f"commit {sha[:7]}"},
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
