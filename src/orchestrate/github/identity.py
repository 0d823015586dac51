"""Who the token posts as. Later runs recognise the sticky summary and the comments already posted
by their author's login, so it must be the login GitHub shows on what this token writes, whatever
kind of token it is: the Actions GITHUB_TOKEN, a personal access token, or a GitHub App's token.
"""

from __future__ import annotations

from typing import Any

from github import Github, GithubException
from orchestrate.exceptions import GitHubError
from orchestrate.github.pull_request import github_error

VIEWER_QUERY = "query { viewer { login } }"
BOT_SUFFIX = "[bot]"
"""REST names an App's account `<slug>[bot]` (`github-actions[bot]` for GITHUB_TOKEN)."""


def token_login(client: Github, override: str | None = None) -> str:
    """The login the token posts as: `override` when given (the `bot-login` input), else asked.

    GET /user answers personal access tokens and OAuth tokens
    (https://docs.github.com/rest/users/users#get-the-authenticated-user). App installation
    tokens, GITHUB_TOKEN among them, get 403 "Resource not accessible by integration" there
    (https://github.com/actions/create-github-app-token/issues/258), and GET /app, which names
    the App, takes only the App's JWT ("You must use a JWT to access this endpoint",
    https://docs.github.com/rest/apps/apps#get-the-authenticated-app). GraphQL's `viewer` answers
    both kinds; for an App it gives the App's slug, without the `[bot]` suffix REST shows
    (https://github.com/palantir/policy-bot/releases/tag/1.4.1), so the suffix is added.
    """
    if override:
        return override
    try:
        return str(client.get_user().login)
    except GithubException as error:
        if error.status != 403:
            raise github_error(error, "find out whom the token posts as (GET /user)") from error
    return _app_login(client)


def _app_login(client: Github) -> str:
    try:
        _, data = client.requester.graphql_query(VIEWER_QUERY, {})
    except GithubException as error:
        raise GitHubError(
            f"cannot tell whom the token posts as (GitHub answered {error.status}); "
            "set the bot-login input (--bot-login), e.g. my-app[bot]"
        ) from error
    login = _viewer_login(data)
    return login if login.endswith(BOT_SUFFIX) else login + BOT_SUFFIX


def _viewer_login(data: dict[str, Any]) -> str:
    viewer = (data.get("data") or {}).get("viewer") or {}
    login = viewer.get("login")
    if not isinstance(login, str) or not login:
        raise GitHubError(
            "GitHub's GraphQL API did not name the token's account; "
            "set the bot-login input (--bot-login), e.g. my-app[bot]"
        )
    return login
