"""Opening a pull request for a branch a run pushed, through PyGithub: found again rather than
duplicated when the run is resumed, and never from (or onto anything but) the default branch.

Create: POST /repos/{owner}/{repo}/pulls with title, head, base, body
(https://docs.github.com/rest/pulls/pulls#create-a-pull-request); an open one for the same head
is found with GET /repos/{owner}/{repo}/pulls?head=owner:branch&state=open
(https://docs.github.com/rest/pulls/pulls#list-pull-requests).
"""

from __future__ import annotations

from pydantic import BaseModel

from github import Github, GithubException
from orchestrate.github.pull_request import github_error
from orchestrate.github.repository import RepoFacts, refuse_default_branch
from orchestrate.privacy.masking import mask_keys

MAX_PULL_BODY = 65_536
"""GitHub refuses a longer body with 422 "body is too long (maximum is 65536 characters)" (the
answer is quoted in https://github.com/renovatebot/renovate/issues/2032)."""


class OpenedPull(BaseModel):
    """A pull request for one branch."""

    number: int
    """Its number."""
    url: str
    """Its page."""
    created: bool
    """False when an open one for the branch was already there (a resumed run)."""


def open_pull(client: Github, facts: RepoFacts, branch: str, title: str, body: str) -> OpenedPull:
    """The open pull request from `branch` into the default branch, made if there is none."""
    refuse_default_branch(branch, facts)
    owner = facts.full_name.split("/", 1)[0]
    try:
        repository = client.get_repo(facts.full_name)
        for pull in repository.get_pulls(
            state="open", head=f"{owner}:{branch}", base=facts.default_branch
        ):
            return OpenedPull(number=pull.number, url=pull.html_url, created=False)
        pull = repository.create_pull(
            base=facts.default_branch,
            head=branch,
            title=mask_keys(title),
            body=mask_keys(body)[:MAX_PULL_BODY],
        )
    except GithubException as error:
        raise github_error(
            error, f"open a pull request from {branch} in {facts.full_name}"
        ) from error
    return OpenedPull(number=pull.number, url=pull.html_url, created=True)
