"""The fake GitHub server, driven through real PyGithub: the routes a review needs and GitHub's
own refusal of a comment outside the diff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from github import Auth, Github, GithubException
from orchestrate.testing.fake_github import FakeFile, FakeGitHub
from orchestrate.testing.fake_github_state import INTEGRATION_DENIED, LINE_NOT_IN_DIFF

HEAD = "a" * 40
NEXT = "c" * 40
PATCH = "@@ -10,3 +10,4 @@ def f():\n     a = 1\n-    b = 2\n+    b = 3\n+    c = 4\n     return a"
# New side: 10 ctx, 11 add, 12 add, 13 ctx. Old side: 10 ctx, 11 del, 12 ctx.


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.open_pull(7, HEAD, [FakeFile("app.py", PATCH)], title="Fix b", body="Please review")
        yield server


def client(fake: FakeGitHub, token: str = "ghs_fake", per_page: int = 30) -> Github:
    return Github(
        base_url=fake.url,
        auth=Auth.Token(token),
        retry=None,
        per_page=per_page,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def test_reads_repo_pull_and_files(fake: FakeGitHub) -> None:
    repo = client(fake).get_repo("acme/widgets")
    pull = repo.get_pull(7)
    assert (pull.title, pull.body, pull.head.sha) == ("Fix b", "Please review", HEAD)
    assert pull.head.repo.full_name == pull.base.repo.full_name == "acme/widgets"
    files = list(pull.get_files())
    assert [(f.filename, f.additions, f.deletions, f.patch) for f in files] == [
        ("app.py", 2, 1, PATCH)
    ]
    assert [c.sha for c in pull.get_commits()] == [HEAD]


def test_files_are_paginated_like_github(fake: FakeGitHub) -> None:
    many = [FakeFile(f"f{i}.py", "@@ -0,0 +1 @@\n+x", status="added") for i in range(7)]
    fake.open_pull(8, NEXT, many)
    pull = client(fake, per_page=3).get_repo("acme/widgets").get_pull(8)
    assert [f.filename for f in pull.get_files()] == [f"f{i}.py" for i in range(7)]
    pages = [r for r in fake.requests if r.path.startswith("/repos/acme/widgets/pulls/8/files")]
    assert len(pages) == 3


def test_binary_file_has_no_patch(fake: FakeGitHub) -> None:
    fake.open_pull(9, NEXT, [FakeFile("logo.png", None, status="added")])
    (file,) = client(fake).get_repo("acme/widgets").get_pull(9).get_files()
    assert file.patch is None


def test_review_on_diff_lines_is_stored(fake: FakeGitHub) -> None:
    pull = client(fake).get_repo("acme/widgets").get_pull(7)
    review = pull.create_review(
        body="two notes",
        event="COMMENT",
        comments=[
            {"path": "app.py", "line": 12, "side": "RIGHT", "body": "added line"},
            {"path": "app.py", "line": 13, "body": "context line"},
            {"path": "app.py", "line": 11, "side": "LEFT", "body": "deleted line"},
        ],
    )
    assert review.state == "COMMENTED"
    assert [r["body"] for r in fake.reviews(7)] == ["two notes"]
    assert [c["line"] for c in fake.review_comments(7)] == [12, 13, 11]
    assert [r.state for r in pull.get_reviews()] == ["COMMENTED"]


@pytest.mark.parametrize(
    ("comment", "error"),
    [
        ({"path": "app.py", "line": 9, "side": "RIGHT"}, LINE_NOT_IN_DIFF),
        ({"path": "app.py", "line": 14}, LINE_NOT_IN_DIFF),
        ({"path": "app.py", "line": 13, "side": "LEFT"}, LINE_NOT_IN_DIFF),
        ({"path": "other.py", "line": 10}, "Path could not be resolved"),
    ],
)
def test_off_diff_comment_fails_the_whole_review_with_githubs_422(
    fake: FakeGitHub, comment: dict[str, object], error: str
) -> None:
    pull = client(fake).get_repo("acme/widgets").get_pull(7)
    comments: list[Any] = [{"path": "app.py", "line": 12, "body": "fine"}, {**comment, "body": "x"}]
    with pytest.raises(GithubException) as raised:
        pull.create_review(body="x", event="COMMENT", comments=comments)
    assert raised.value.status == 422
    assert raised.value.data == {
        "message": "Unprocessable Entity",
        "errors": [error],
        "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
        "status": "422",
    }
    assert fake.reviews(7) == []
    assert fake.review_comments(7) == []


def test_compare_after_push_and_force_push(fake: FakeGitHub) -> None:
    added = FakeFile("new.py", "@@ -0,0 +1,2 @@\n+one\n+two", status="added")
    fake.push_commit(7, NEXT, [added], [FakeFile("app.py", PATCH), added])
    repo = client(fake).get_repo("acme/widgets")
    ahead = repo.compare(HEAD, NEXT)
    assert ahead.status == "ahead"
    assert [f.filename for f in ahead.files] == ["new.py"]
    assert repo.compare(NEXT, NEXT).status == "identical"
    rewritten = "d" * 40
    fake.force_push(7, rewritten, [added])
    assert repo.compare(NEXT, rewritten).status == "diverged"
    with pytest.raises(GithubException) as raised:
        repo.compare("e" * 40, rewritten)
    assert raised.value.status == 404


def test_issue_comments_create_list_edit(fake: FakeGitHub) -> None:
    pull = client(fake).get_repo("acme/widgets").get_pull(7)
    created = pull.create_issue_comment("first")
    assert created.user.login == "github-actions[bot]"
    created.edit("second")
    assert [(c.body, c.user.login) for c in pull.get_issue_comments()] == [
        ("second", "github-actions[bot]")
    ]
    assert len(fake.issue_comments(7)) == 1


def test_unknown_token_is_refused(fake: FakeGitHub) -> None:
    with pytest.raises(GithubException) as raised:
        client(fake, token="wrong").get_repo("acme/widgets").get_pull(7).title  # noqa: B018
    assert raised.value.status == 401


def test_a_forks_pull_request_run_gets_a_read_only_token(fake: FakeGitHub) -> None:
    fake.open_pull(8, NEXT, [FakeFile("app.py", PATCH)], head_repo="mallory/widgets")
    fork_run = fake.run_token(8, "pull_request")
    pull = client(fake, token=fork_run).get_repo("acme/widgets").get_pull(8)
    assert [f.filename for f in pull.get_files()] == ["app.py"]  # reading is allowed
    with pytest.raises(GithubException) as raised:
        pull.create_issue_comment("hello")
    assert (raised.value.status, raised.value.data["message"]) == (403, INTEGRATION_DENIED)
    with pytest.raises(GithubException) as review:
        pull.create_review(body="x", event="COMMENT")
    assert review.value.status == 403
    assert fake.issue_comments(8) == [] and fake.reviews(8) == []
    # pull_request_target runs, and pull_request runs of the repository's own branches, may write.
    target = client(fake, token=fake.run_token(8, "pull_request_target")).get_repo("acme/widgets")
    target.get_pull(8).create_issue_comment("from the base")
    own = client(fake, token=fake.run_token(7, "pull_request")).get_repo("acme/widgets")
    own.get_pull(7).create_issue_comment("from a branch")
    assert len(fake.issue_comments(8)) == len(fake.issue_comments(7)) == 1


def test_who_a_token_is_as_github_answers(fake: FakeGitHub) -> None:
    pat = fake.add_token("ghp_personal", "octo-reviewer")
    app = fake.add_token("ghs_app", "review-app[bot]", installation=True)
    assert client(fake, token=pat).get_user().login == "octo-reviewer"
    for token in ("ghs_fake", app):
        with pytest.raises(GithubException) as raised:
            client(fake, token=token).get_user().login  # noqa: B018
        assert (raised.value.status, raised.value.data["message"]) == (403, INTEGRATION_DENIED)
    viewers = [
        client(fake, token=t).requester.graphql_query("query { viewer { login } }", {})[1]
        for t in ("ghs_fake", app, pat)
    ]
    assert [v["data"]["viewer"]["login"] for v in viewers] == [
        "github-actions",
        "review-app",
        "octo-reviewer",
    ]


def test_lists_stop_where_githubs_do(fake: FakeGitHub) -> None:
    many = [FakeFile(f"f{i:04}.py", "@@ -0,0 +1 @@\n+x", status="added") for i in range(3005)]
    fake.open_pull(8, NEXT, many)
    pull = client(fake, per_page=500).get_repo("acme/widgets").get_pull(8)
    assert pull.changed_files == 3005
    assert len(list(pull.get_files())) == 3000
    pages = [r for r in fake.requests if r.path.startswith("/repos/acme/widgets/pulls/8/files")]
    assert len(pages) == 30  # per_page is at most 100
    later = "d" * 40
    fake.push_commit(8, later, many[:320], many, message="Merge main")
    comparison = client(fake).get_repo("acme/widgets").compare(NEXT, later)
    assert len(comparison.files) == 300
    assert [c.commit.message for c in pull.get_commits()] == [f"commit {NEXT[:7]}", "Merge main"]
