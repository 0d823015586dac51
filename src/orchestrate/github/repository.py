"""A repository as GitHub describes it (where to clone it from, its default branch), and the
API client the `--repos` run uses for it."""

from __future__ import annotations

from pydantic import BaseModel

from github import Auth, Github, GithubException
from orchestrate.exceptions import GitHubError
from orchestrate.github.pull_request import PER_PAGE, github_error

DEFAULT_API_URL = "https://api.github.com"


class RepoFacts(BaseModel):
    """What a `--repos` run needs to know of a GitHub repository."""

    full_name: str
    """`owner/name` as GitHub spells it."""
    clone_url: str
    """The HTTPS URL git clones and pushes to."""
    default_branch: str
    """The branch pull requests go into, and the one nothing is ever pushed to."""


def api_client(api_url: str, token: str | None) -> Github:
    """A client for `api_url`; anonymous without a token (public repositories only). No retries
    or pacing sleeps: failures are reported, one line each."""
    return Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token) if token else None,
        retry=None,
        lazy=True,
        per_page=PER_PAGE,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def repo_facts(client: Github, full_name: str) -> RepoFacts:
    """GET the repository (one call); `GitHubError` naming it when GitHub refuses."""
    try:
        repository = client.get_repo(full_name)  # lazy: the first attribute read GETs it
        return RepoFacts(
            full_name=repository.full_name,
            clone_url=repository.clone_url,
            default_branch=repository.default_branch,
        )
    except GithubException as error:
        raise github_error(error, f"read repository {full_name}") from error


def refuse_default_branch(branch: str, facts: RepoFacts) -> None:
    """Nothing is ever pushed to, or proposed from, the default branch."""
    if branch == facts.default_branch:
        raise GitHubError(
            f"{facts.full_name}: {branch} is the default branch; orchestrate only pushes its own "
            "orchestrate/<run id> branches"
        )
