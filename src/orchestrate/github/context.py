"""Which pull request to review, with what token, against which API: from options, the Actions
environment and the event payload, options winning."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from orchestrate.exceptions import ConfigError, MissingCredentialsError

DEFAULT_API_URL = "https://api.github.com"
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class PullRequestContext(BaseModel):
    """Everything needed to reach one pull request."""

    api_url: str
    """REST API root (`GITHUB_API_URL`; GitHub Enterprise has its own)."""
    repo: str
    """`owner/name` of the repository the pull request targets."""
    number: int
    """Pull request number."""
    token: str
    """Token used for every call; never printed."""
    head_repo: str | None = None
    """`owner/name` the head branch lives in, from the event; None when unknown or deleted."""
    from_event: bool = False
    """True when the pull request came from a `pull_request` event payload."""
    event_name: str = ""
    """`GITHUB_EVENT_NAME`: `pull_request`, `pull_request_target`, `workflow_run`, ..."""

    @property
    def is_fork(self) -> bool:
        """A pull request from another repository: Actions gives it no secrets, so no cloud keys."""
        return self.from_event and self.head_repo != self.repo

    @property
    def read_only(self) -> bool:
        """Known before any write: a `pull_request` run for a fork gets a read-only GITHUB_TOKEN
        ("Maximum access for pull requests from public forked repositories": read;
        `pull_request_target` gets read/write,
        https://docs.github.com/actions/reference/github_token-reference)."""
        return self.event_name == "pull_request" and self.is_fork


def resolve_context(
    repo: str | None, number: int | None, env: Mapping[str, str]
) -> PullRequestContext:
    """Build the context; a missing piece is a one-line error naming the option or variable to set."""
    event = _read_event(env.get("GITHUB_EVENT_PATH"))
    pull = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    repo = repo or env.get("GITHUB_REPOSITORY") or _event_repo(event)
    if not repo or not _REPO.match(repo):
        raise ConfigError(
            f"no repository to review ({repo or 'unset'}); pass --repo owner/name "
            "or set GITHUB_REPOSITORY"
        )
    if number is None and pull is not None and isinstance(pull.get("number"), int):
        number = pull["number"]
    if number is None:
        raise ConfigError(
            "no pull request to review; pass --pr NUMBER or run on a pull_request event"
        )
    token = env.get("GITHUB_TOKEN", "")
    if not token:
        raise MissingCredentialsError(
            "GITHUB_TOKEN is not set; pass `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` "
            "to the step (it needs `pull-requests: write`)"
        )
    return PullRequestContext(
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        repo=repo,
        number=number,
        token=token,
        head_repo=_head_repo(pull),
        from_event=pull is not None and pull.get("number") == number,
        event_name=env.get("GITHUB_EVENT_NAME", ""),
    )


def _read_event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(
            f"GITHUB_EVENT_PATH: {path} does not exist; unset it or fix it"
        ) from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"GITHUB_EVENT_PATH: {path} is not a JSON event payload") from error
    return data if isinstance(data, dict) else {}


def _event_repo(event: Mapping[str, Any]) -> str | None:
    repository = event.get("repository")
    if isinstance(repository, dict) and isinstance(repository.get("full_name"), str):
        return str(repository["full_name"])
    return None


def _head_repo(pull: Mapping[str, Any] | None) -> str | None:
    if pull is None:
        return None
    head = pull.get("head")
    repo = head.get("repo") if isinstance(head, dict) else None
    # A deleted fork leaves `head.repo` null: still not this repository.
    if isinstance(repo, dict) and isinstance(repo.get("full_name"), str):
        return str(repo["full_name"])
    return None
