"""Repositories `FakeGitHub` hosts for a `--repos` run: each has a git remote on disk (a bare
repository the test made) that clones and pushes really reach, and the pull requests opened
into it.

Creating a pull request is validated as GitHub does (https://docs.github.com/rest/pulls/pulls#
create-a-pull-request): the head branch must have been pushed (else 422 with `field: head`,
`code: invalid`), must differ from the base ("No commits between ..."), and may have only one
open pull request ("A pull request already exists for owner:branch.", the answer quoted in
https://github.com/github/VisualStudio/issues/453). Listing filters by `state`, `head`
(`owner:branch`) and `base` (https://docs.github.com/rest/pulls/pulls#list-pull-requests).
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrate.testing.fake_github_state import error, user_json
from orchestrate.testing.fake_server import RecordedRequest, Response

CREATE_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"


def validation_failed(**problem: str) -> Response:
    """GitHub's 422 for a pull request it will not create."""
    body = {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", **problem}],
        "documentation_url": CREATE_DOCS,
        "status": "422",
    }
    return Response.json(body, status=422)


@dataclass
class HostedRepo:
    """One repository: its git remote on disk and its pull requests."""

    full_name: str
    remote: Path
    """A bare git repository: what `clone_url` names, and where pushes land."""
    default_branch: str = "main"
    clone_url: str | None = None
    """What GitHub reports as `clone_url`; None: the remote's path."""
    pulls: list[dict[str, Any]] = field(default_factory=list)

    def branch_sha(self, branch: str) -> str | None:
        """The commit `branch` points at in the remote, or None if it was never pushed."""
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            cwd=self.remote,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or None


class HostedRepos:
    """The routes for hosted repositories: GET the repository, POST and GET its pulls."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.repos: dict[str, HostedRepo] = {}
        self._numbers = itertools.count(1)

    def handle(self, request: RecordedRequest, login: str, route: str, query: dict[str, str],
               hosted: HostedRepo) -> Response:  # fmt: skip
        """Answer one request to `/repos/{hosted}{route}`."""
        if request.method == "GET" and route == "":
            return Response.json(self.repository(hosted))
        if request.method == "POST" and route == "/pulls":
            return self._create(hosted, request.json() or {}, login)
        if request.method == "GET" and route == "/pulls":
            return Response.json(_matching(hosted, query))
        return error(404, "Not Found")

    def repository(self, hosted: HostedRepo) -> dict[str, Any]:
        """The repository's JSON, with where to clone it from."""
        owner, name = hosted.full_name.split("/")
        return {
            "id": int(hashlib.sha1(hosted.full_name.encode()).hexdigest()[:7], 16),
            "name": name,
            "full_name": hosted.full_name,
            "owner": {"login": owner, "type": "Organization"},
            "private": True,
            "fork": False,
            "default_branch": hosted.default_branch,
            "clone_url": hosted.clone_url or str(hosted.remote),
            "url": f"{self.api_url}/repos/{hosted.full_name}",
            "html_url": f"https://github.com/{hosted.full_name}",
        }

    def _create(self, hosted: HostedRepo, data: dict[str, Any], login: str) -> Response:
        head, base = str(data.get("head") or ""), str(data.get("base") or "")
        if not data.get("title"):
            return validation_failed(field="title", code="missing_field")
        branch = head.split(":", 1)[-1]
        base_sha, head_sha = hosted.branch_sha(base), hosted.branch_sha(branch)
        if base_sha is None:
            return validation_failed(field="base", code="invalid")
        if head_sha is None:
            return validation_failed(field="head", code="invalid")
        if head_sha == base_sha:
            return validation_failed(
                code="custom", message=f"No commits between {base} and {branch}"
            )
        owner = hosted.full_name.split("/")[0]
        if _matching(hosted, {"state": "open", "head": f"{owner}:{branch}"}):
            message = f"A pull request already exists for {owner}:{branch}."
            return validation_failed(code="custom", message=message)
        number = next(self._numbers)
        pull = {
            "id": 7000 + number,
            "number": number,
            "state": "open",
            "title": data["title"],
            "body": data.get("body") or "",
            "draft": bool(data.get("draft", False)),
            "user": user_json(login),
            "url": f"{self.api_url}/repos/{hosted.full_name}/pulls/{number}",
            "html_url": f"https://github.com/{hosted.full_name}/pull/{number}",
            "head": {"ref": branch, "sha": head_sha, "label": f"{owner}:{branch}",
                     "repo": self.repository(hosted)},
            "base": {"ref": base, "sha": base_sha, "label": f"{owner}:{base}",
                     "repo": self.repository(hosted)},
        }  # fmt: skip
        hosted.pulls.append(pull)
        return Response.json(pull, status=201)


def _matching(hosted: HostedRepo, query: dict[str, str]) -> list[dict[str, Any]]:
    state = query.get("state", "open")
    found = []
    for pull in hosted.pulls:
        if state != "all" and pull["state"] != state:
            continue
        if "head" in query and pull["head"]["label"] != query["head"]:
            continue
        if "base" in query and pull["base"]["ref"] != query["base"]:
            continue
        found.append(pull)
    return found
