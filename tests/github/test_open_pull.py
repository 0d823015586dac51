"""Opening a pull request through PyGithub against the fake GitHub: only after the branch was
pushed, never from the default branch, and found again instead of duplicated."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrate.exceptions import GitHubError
from orchestrate.fleet.git_remote import push_branch
from orchestrate.github.open_pull import open_pull
from orchestrate.github.repository import api_client, repo_facts
from orchestrate.testing.fake_github import FakeGitHub, HostedRepo

TOKEN = "ghp_openpull0123456789"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as fake:
        yield fake


def checkout_with_remote(tmp_path: Path, github: FakeGitHub) -> tuple[Path, HostedRepo]:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "a.txt").write_text("a\n")
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(remote))
    git(work, "switch", "-q", "-c", "orchestrate/r1")
    (work / "a.txt").write_text("b\n")
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "change")
    return work, github.host(HostedRepo("acme/widgets", remote))


def test_a_branch_is_proposed_once_and_found_again(
    tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-abcdefghijklmnop")
    work, hosted = checkout_with_remote(tmp_path, github)
    client = api_client(github.url, TOKEN)
    facts = repo_facts(client, "acme/widgets")
    assert (facts.default_branch, facts.clone_url) == ("main", str(hosted.remote))

    with pytest.raises(GitHubError) as unpushed:
        open_pull(client, facts, "orchestrate/r1", "Change a", "body")
    assert "422" in str(unpushed.value) and "'field': 'head'" in str(unpushed.value)

    push_branch(work, str(hosted.remote), "orchestrate/r1", TOKEN)
    first = open_pull(
        client, facts, "orchestrate/r1", "Change a", "Uses sk-ant-api03-abcdefghijklmnop"
    )
    again = open_pull(client, facts, "orchestrate/r1", "Change a", "body")
    assert (first.created, again.created, again.number) == (True, False, first.number)
    assert len(hosted.pulls) == 1
    assert hosted.pulls[0]["base"]["ref"] == "main"
    assert "sk-ant-api03-abcdefghijklmnop" not in hosted.pulls[0]["body"]  # masked


def test_nothing_is_pushed_to_or_proposed_from_the_default_branch(
    tmp_path: Path, github: FakeGitHub
) -> None:
    _, hosted = checkout_with_remote(tmp_path, github)
    client = api_client(github.url, TOKEN)
    facts = repo_facts(client, "acme/widgets")
    with pytest.raises(GitHubError, match="main is the default branch"):
        open_pull(client, facts, "main", "Change a", "body")
    assert hosted.pulls == []
    assert not any(request.method == "POST" for request in github.requests)


def test_a_repository_github_does_not_show_is_one_line(github: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match=r"refused to read repository acme/nowhere \(404"):
        repo_facts(api_client(github.url, TOKEN), "acme/nowhere")
