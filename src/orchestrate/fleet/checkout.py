"""A checkout for each repository of a `--repos` run: a local folder as it is, a GitHub
repository cloned into orchestrate's own folder (`run_files.clone_path`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from orchestrate.engine.run_files import clone_path
from orchestrate.engine.session import repo_root
from orchestrate.fleet.git_remote import clone_or_update, github_name, origin_url
from orchestrate.fleet.repos_file import RepoSpec
from orchestrate.github.repository import DEFAULT_API_URL, RepoFacts, api_client, repo_facts


class GitHubAccess(BaseModel):
    """How to reach GitHub: the API root and the token (from `GITHUB_API_URL`, `GITHUB_TOKEN`)."""

    api_url: str = DEFAULT_API_URL
    """REST API root; GitHub Enterprise has its own."""
    token: str | None = None
    """Token for the API and for git; None works for public repositories, reading only."""

    def facts(self, full_name: str) -> RepoFacts:
        """The repository as GitHub describes it (one API call)."""
        return repo_facts(api_client(self.api_url, self.token), full_name)


def prepare(spec: RepoSpec, access: GitHubAccess, *, update: bool) -> Path:
    """The checkout to run in: a local folder's git root, or orchestrate's clone of a GitHub
    repository, cloned now or (with `update`) brought up to date; a resume leaves it as it was,
    since its runs already know the commit they branch from."""
    if spec.kind == "local":
        return repo_root(Path(spec.target))
    dest = clone_path(spec.target)
    if update or not (dest / ".git").exists():
        facts = access.facts(spec.target)
        clone_or_update(facts.clone_url, dest, facts.default_branch, access.token)
    return repo_root(dest)


def github_repo_of(spec: RepoSpec, checkout: Path) -> str | None:
    """`owner/name` pull requests go to: the listed one, or a local checkout's `origin`."""
    if spec.kind == "github":
        return spec.target
    url = origin_url(checkout)
    return None if url is None else github_name(url)
