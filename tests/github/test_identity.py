"""Whom the token posts as, for each kind of token GitHub has, through real PyGithub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrate.exceptions import GitHubError
from orchestrate.github.context import PullRequestContext
from orchestrate.github.identity import token_login
from orchestrate.github.pull_request import connect
from orchestrate.testing.fake_github import FakeGitHub
from orchestrate.testing.fake_github_state import error
from orchestrate.testing.fake_server import RecordedRequest, Response


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


def login(fake: FakeGitHub, token: str, override: str | None = None) -> str:
    context = PullRequestContext(api_url=fake.url, repo="acme/widgets", number=1, token=token)
    return token_login(connect(context), override)


def test_the_actions_token_is_github_actions_bot(fake: FakeGitHub) -> None:
    assert login(fake, "ghs_fake") == "github-actions[bot]"
    # GET /user refuses installation tokens; GraphQL's viewer names the App.
    assert [r.path for r in fake.requests] == ["/user", "/graphql"]


def test_a_personal_access_token_is_its_user(fake: FakeGitHub) -> None:
    fake.add_token("ghp_personal", "octo-reviewer")
    assert login(fake, "ghp_personal") == "octo-reviewer"
    assert [r.path for r in fake.requests] == ["/user"]


def test_an_app_token_is_the_apps_bot(fake: FakeGitHub) -> None:
    fake.add_token("ghs_app", "review-app[bot]", installation=True)
    assert login(fake, "ghs_app") == "review-app[bot]"


def test_bot_login_wins_without_asking(fake: FakeGitHub) -> None:
    assert login(fake, "ghs_fake", override="my-app[bot]") == "my-app[bot]"
    assert fake.requests == []


def test_an_unknown_token_is_one_clear_error(fake: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match=r"401 Bad credentials.*check GITHUB_TOKEN"):
        login(fake, "nope")


class GraphQLDown(FakeGitHub):
    """A GitHub whose GraphQL endpoint fails (502) while REST answers."""

    def handle(self, request: RecordedRequest) -> Response:
        if request.path == "/graphql":
            return error(502, "Bad Gateway")
        return super().handle(request)


def test_when_github_cannot_say_the_error_names_the_input() -> None:
    with (
        GraphQLDown() as fake,
        pytest.raises(GitHubError, match=r"set the bot-login input \(--bot-login\)"),
    ):
        login(fake, "ghs_fake")
