"""A loopback stand-in for the GitHub REST routes a pull-request review uses, for real PyGithub.

It holds one repository's pull requests in Python: a test opens a pull request, pushes commits
(`push_commit`) or force-pushes (`force_push`), then reads back the reviews and comments posted.
Review comments are validated like GitHub does: a comment on a line outside the diff fails the
whole review with GitHub's own 422 body, and nothing is stored. Tokens behave like GitHub's: an
App installation token (GITHUB_TOKEN is one) cannot call GET /user, the token of a `pull_request`
run from a fork is read-only (`run_token`), a comparison lists at most 300 files and a pull
request at most 3,000.
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from orchestrate.testing.fake_github_git import GitObjects
from orchestrate.testing.fake_github_repos import HostedRepo, HostedRepos
from orchestrate.testing.fake_github_state import (
    COMPARE_FILE_CAP,
    INTEGRATION_DENIED,
    MAX_PER_PAGE,
    PULL_COMMIT_CAP,
    PULL_FILE_CAP,
    REVIEW_STATES,
    FakeFile,
    FakePull,
    FakeToken,
    Payloads,
    Store,
    error,
    invalid_comment,
    unprocessable,
    user_json,
    whoami,
    write_docs,
)
from orchestrate.testing.fake_server import FakeServer, RecordedRequest, Response

__all__ = ["FakeFile", "FakeGitHub", "FakePull", "FakeToken", "HostedRepo", "unprocessable"]

_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class FakeGitHub(FakeServer):
    """Serves one repository's pull requests, reviews and issue comments."""

    def __init__(
        self,
        repo: str = "acme/widgets",
        token: str = "ghs_fake",
        login: str = "github-actions[bot]",
    ) -> None:
        super().__init__()
        self.repo = repo
        self.tokens: dict[str, FakeToken] = {token: FakeToken(login)}
        """Accepted tokens and whom each acts as; any other token gets a 401."""
        self.per_page = 30
        self.store = Store()
        self.payloads = Payloads(self.url, repo)
        self.git = GitObjects(f"{self.url}/repos/{repo}")
        """Files at commits (`git.commit_files`): the Git database routes."""
        self.hosted = HostedRepos(self.url)
        """Repositories a `--repos` run clones, pushes to and opens pull requests in."""
        self._ids = itertools.count(1001)

    # --- test-side API ---------------------------------------------------------------------

    def add_token(
        self, token: str, login: str, *, installation: bool = False, read_only: bool = False
    ) -> str:
        """Accept `token` as `login`: a personal access token, or with `installation` an App's."""
        self.tokens[token] = FakeToken(login, installation=installation, read_only=read_only)
        return token

    def run_token(self, number: int, event: str = "pull_request") -> str:
        """The GITHUB_TOKEN a workflow run on pull request `number` gets: read-only for a
        `pull_request` run from a fork ("Maximum access for pull requests from public forked
        repositories": read, https://docs.github.com/actions/reference/github_token-reference),
        read/write for `pull_request_target` and for branches of this repository."""
        pull = self.store.pulls[number]
        read_only = event == "pull_request" and pull.head_repo != self.repo
        token = f"ghs_run_{number}_{event}"
        return self.add_token(token, "github-actions[bot]", installation=True, read_only=read_only)

    def open_pull(
        self,
        number: int,
        head_sha: str,
        files: list[FakeFile],
        *,
        base_sha: str = "b" * 40,
        title: str = "A change",
        body: str = "",
        head_repo: str | None = None,
        author: str = "octocat",
        message: str | None = None,
    ) -> FakePull:
        """Open a pull request whose single commit `head_sha` changes `files`; `head_repo` names
        the fork it comes from (None: a branch of this repository)."""
        pull = FakePull(
            number, title, body, base_sha, [head_sha], {head_sha: list(files)},
            head_repo or self.repo, author,
        )  # fmt: skip
        self.store.pulls[number] = pull
        self.store.commit_files[head_sha] = list(files)
        if base_sha not in self.git.commit_trees:
            self.git.commit_files(base_sha, {})  # GitHub always has the base: empty unless given
        if message is not None:
            self.store.commit_messages[head_sha] = message
        return pull

    def push_commit(
        self,
        number: int,
        sha: str,
        files: list[FakeFile],
        pr_files: list[FakeFile],
        message: str | None = None,
    ) -> None:
        """Push commit `sha` changing `files`; `pr_files` is the pull request's diff afterwards."""
        pull = self.store.pulls[number]
        pull.commits.append(sha)
        pull.files_at[sha] = list(pr_files)
        self.store.commit_files[sha] = list(files)
        if message is not None:
            self.store.commit_messages[sha] = message

    def force_push(self, number: int, sha: str, pr_files: list[FakeFile]) -> None:
        """Rewrite the branch to the single commit `sha`; older commits stay known but unrelated."""
        pull = self.store.pulls[number]
        pull.commits = [sha]
        pull.files_at[sha] = list(pr_files)
        self.store.commit_files[sha] = list(pr_files)

    def add_issue_comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        """A comment by someone else (e.g. the PR author forging a marker)."""
        return self._new_issue_comment(number, body, login)

    def reviews(self, number: int) -> list[dict[str, Any]]:
        """Reviews stored for a pull request, oldest first."""
        return self.store.reviews.get(number, [])

    def review_comments(self, number: int) -> list[dict[str, Any]]:
        """Inline comments stored for a pull request."""
        return self.store.review_comments.get(number, [])

    def issue_comments(self, number: int) -> list[dict[str, Any]]:
        """Conversation comments stored for a pull request."""
        return self.store.issue_comments.get(number, [])

    def host(self, hosted: HostedRepo) -> HostedRepo:
        """Serve `hosted` (its repository and pull request routes) alongside the review repo."""
        self.hosted.repos[hosted.full_name] = hosted
        return hosted

    # --- HTTP side -------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Response:
        """Authenticate, then route by method and path."""
        token = self._token(request)
        if token is None:
            return error(401, "Bad credentials")
        url = urlsplit(request.path)
        if url.path in ("/user", "/graphql"):
            return whoami(request, token)
        if token.read_only and request.method in _WRITES:
            return error(403, INTEGRATION_DENIED, docs=write_docs(request.path))
        login = token.login
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        named = re.match(r"/repos/([^/]+/[^/]+)(.*)", url.path)
        if named and named.group(1) in self.hosted.repos:
            hosted = self.hosted.repos[named.group(1)]
            return self.hosted.handle(request, login, named.group(2), query, hosted)
        prefix = f"/repos/{self.repo}"
        if url.path != prefix and not url.path.startswith(prefix + "/"):
            return error(404, "Not Found")
        route = url.path[len(prefix) :]
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, route)
            if match and method == request.method:
                result: Response = handler(request, login, query, *match.groups())
                return result
        return error(404, "Not Found")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"", lambda *_: Response.json(self.payloads.repository(self.repo))),
            ("GET", r"/pulls/(\d+)", self._get_pull),
            ("GET", r"/pulls/(\d+)/files", self._get_files),
            ("GET", r"/pulls/(\d+)/commits", self._get_commits),
            ("GET", r"/commits/([0-9a-f]+)", self._get_commit),
            ("GET", r"/compare/([0-9a-f]+)\.\.\.([0-9a-f]+)", self._compare),
            ("POST", r"/pulls/(\d+)/reviews", self._post_review),
            ("GET", r"/pulls/(\d+)/reviews", self._list_of(self.store.reviews)),
            ("GET", r"/pulls/(\d+)/comments", self._list_of(self.store.review_comments)),
            ("GET", r"/issues/(\d+)/comments", self._list_of(self.store.issue_comments)),
            ("POST", r"/issues/(\d+)/comments", self._post_issue_comment),
            ("PATCH", r"/issues/comments/(\d+)", self._edit_issue_comment),
            *self.git.routes(),
        ]

    def _token(self, request: RecordedRequest) -> FakeToken | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return self.tokens.get(token) if scheme.lower() in ("token", "bearer") else None

    def _pull(self, number: str) -> FakePull | None:
        return self.store.pulls.get(int(number))

    def _get_pull(self, _r: RecordedRequest, _l: str, _q: dict[str, str], n: str) -> Response:
        pull = self._pull(n)
        return Response.json(self.payloads.pull(pull)) if pull else error(404, "Not Found")

    def _get_files(self, _r: RecordedRequest, _l: str, q: dict[str, str], n: str) -> Response:
        pull = self._pull(n)
        if pull is None:
            return error(404, "Not Found")
        items = [f.json() for f in pull.files_at[pull.head_sha][:PULL_FILE_CAP]]
        return self._page(f"/pulls/{n}/files", items, q)

    def _get_commits(self, _r: RecordedRequest, _l: str, q: dict[str, str], n: str) -> Response:
        pull = self._pull(n)
        if pull is None:
            return error(404, "Not Found")
        messages = self.store.commit_messages
        items = [self.payloads.commit(s, messages.get(s)) for s in pull.commits[:PULL_COMMIT_CAP]]
        return self._page(f"/pulls/{n}/commits", items, q)

    def _get_commit(self, _r: RecordedRequest, _l: str, _q: dict[str, str], sha: str) -> Response:
        if sha not in self.store.commit_files:
            return error(404, "Not Found")
        files = [f.json() for f in self.store.commit_files[sha]]
        return Response.json({**self.payloads.commit(sha), "files": files})

    def _compare(
        self, _r: RecordedRequest, _l: str, _q: dict[str, str], base: str, head: str
    ) -> Response:
        known = {p.base_sha for p in self.store.pulls.values()} | set(self.store.commit_files)
        if base not in known or head not in known:
            return error(404, "Not Found")
        status, files = self.store.between(base, head)
        return Response.json(
            {
                "url": f"{self.url}/repos/{self.repo}/compare/{base}...{head}",
                "html_url": f"https://github.com/{self.repo}/compare/{base}...{head}",
                "status": status,
                "ahead_by": 0 if status == "identical" else 1,
                "behind_by": 1 if status in ("behind", "diverged") else 0,
                "total_commits": 0,
                "commits": [],
                "files": [f.json() for f in files[:COMPARE_FILE_CAP]],
            }
        )

    def _post_review(self, r: RecordedRequest, login: str, _q: dict[str, str], n: str) -> Response:
        pull = self._pull(n)
        if pull is None:
            return error(404, "Not Found")
        data = r.json() or {}
        commit = data.get("commit_id") or pull.head_sha
        event = data.get("event")
        if commit not in pull.files_at:
            return unprocessable("Commit could not be resolved")
        if event is not None and event not in REVIEW_STATES:
            return unprocessable(f"Event {event!r} is not valid")
        comments = data.get("comments") or []
        problem = invalid_comment(comments, pull.files_at[commit])
        if problem is not None:
            return unprocessable(problem)
        review_id = next(self._ids)
        review = {
            "id": review_id,
            "user": user_json(login),
            "body": data.get("body") or "",
            "state": REVIEW_STATES.get(event or "", "PENDING"),
            "commit_id": commit,
            "html_url": f"https://github.com/{self.repo}/pull/{n}#pullrequestreview-{review_id}",
            "pull_request_url": f"{self.url}/repos/{self.repo}/pulls/{n}",
            "submitted_at": "2026-01-01T00:00:00Z",
        }
        self.store.reviews.setdefault(int(n), []).append(review)
        for comment in comments:
            stored = {**comment, "id": next(self._ids), "pull_request_review_id": review["id"]}
            stored.update(
                user=user_json(login), commit_id=commit, side=comment.get("side", "RIGHT")
            )
            self.store.review_comments.setdefault(int(n), []).append(stored)
        return Response.json(review)

    def _post_issue_comment(
        self, r: RecordedRequest, login: str, _q: dict[str, str], n: str
    ) -> Response:
        if self._pull(n) is None:
            return error(404, "Not Found")
        body = (r.json() or {}).get("body")
        if not isinstance(body, str) or not body:
            return unprocessable("Body cannot be blank", docs="https://docs.github.com/rest")
        return Response.json(self._new_issue_comment(int(n), body, login), status=201)

    def _edit_issue_comment(
        self, r: RecordedRequest, _l: str, _q: dict[str, str], comment_id: str
    ) -> Response:
        for comment in itertools.chain.from_iterable(self.store.issue_comments.values()):
            if comment["id"] == int(comment_id):
                comment["body"] = (r.json() or {}).get("body", comment["body"])
                comment["updated_at"] = "2026-01-01T00:01:00Z"
                return Response.json(comment)
        return error(404, "Not Found")

    def _list_of(self, table: dict[int, list[dict[str, Any]]]) -> Any:
        def handler(_r: RecordedRequest, _l: str, q: dict[str, str], n: str) -> Response:
            if self._pull(n) is None:
                return error(404, "Not Found")
            route = urlsplit(_r.path).path[len(f"/repos/{self.repo}") :]
            return self._page(route, table.get(int(n), []), q)

        return handler

    def _new_issue_comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        comment = self.payloads.issue_comment(next(self._ids), number, body, login)
        self.store.issue_comments.setdefault(number, []).append(comment)
        return comment

    def _page(self, route: str, items: list[dict[str, Any]], query: dict[str, str]) -> Response:
        """One page of `items`, with a `Link` header to the next like GitHub's."""
        per_page = min(int(query.get("per_page", self.per_page)), MAX_PER_PAGE)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            base = f"{self.url}/repos/{self.repo}{route}"
            headers["link"] = f'<{base}?page={page + 1}&per_page={per_page}>; rel="next"'
        return Response.json(chunk, headers=headers)
