"""The fake GitHub server, driven through real PyGithub: the routes a review needs and GitHub's
own refusal of a comment outside the diff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from github import Auth, Github, GithubException
from orchestrate.testing.fake_github import FakeFile, FakeGitHub

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
        ({"path": "app.py", "line": 9, "side": "RIGHT"}, "Line could not be resolved"),
        ({"path": "app.py", "line": 14}, "Line could not be resolved"),
        ({"path": "app.py", "line": 13, "side": "LEFT"}, "Line could not be resolved"),
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
