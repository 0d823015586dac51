"""The instructions files of a pull request's base commit, read through PyGithub from the fake
GitHub's Git database routes: the nearest file up from each path, AGENTS.md before CLAUDE.md,
the root's Copilot file as the last fallback, and the same answer when GitHub cuts the
recursive tree short (past its documented limit) and the folders are listed one by one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from github import Auth, Github
from orchestrate.exceptions import GitHubError
from orchestrate.github.base_rules import base_rule_files
from orchestrate.testing.fake_github import FakeGitHub

BASE = "b" * 40
FILES = {
    "AGENTS.md": "Root rules.",
    "CLAUDE.md": "Claude's root notes (AGENTS.md wins).",
    "pkg/sub/CLAUDE.md": "Sub-package rules.",
    "pkg/sub/mod.py": "x = 1\n",
    "docs/AGENTS.md": "Docs rules (no changed file is under docs/).",
    "lib/tool.py": "y = 2\n",
}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub("acme/widgets") as fake:
        yield fake


def read(fake: FakeGitHub, paths: list[str]) -> dict[str, tuple[str, str]]:
    client = Github(base_url=fake.url, auth=Auth.Token("ghs_fake"), retry=None)
    found = base_rule_files(client.get_repo("acme/widgets"), BASE, paths)
    return {folder: (rule.path, rule.text) for folder, rule in found.by_folder.items()}


@pytest.mark.parametrize("truncated", [False, True])
def test_the_files_applying_to_the_changed_paths_at_the_base(
    github: FakeGitHub, truncated: bool
) -> None:
    tree = github.git.commit_files(BASE, FILES)
    if truncated:
        github.git.truncated.add(tree)  # over GitHub's 100,000 entries / 7 MB

    found = read(github, ["pkg/sub/mod.py", "lib/tool.py"])

    assert found == {
        "pkg/sub": ("pkg/sub/CLAUDE.md", "Sub-package rules."),
        "": ("AGENTS.md", "Root rules."),
    }
    asked = [r.path.split("?")[0] for r in github.requests if "/git/" in r.path]
    blobs = [path for path in asked if "/git/blobs/" in path]
    assert len(blobs) == 2  # only the files that apply are read


def test_copilot_instructions_are_the_roots_last_fallback(github: FakeGitHub) -> None:
    github.git.commit_files(BASE, {".github/copilot-instructions.md": "Copilot rules.", "a.py": ""})
    assert read(github, ["a.py"]) == {"": (".github/copilot-instructions.md", "Copilot rules.")}


def test_an_unknown_base_commit_is_one_clear_error(github: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match=r"read the instructions files of bbbbbbb \(404"):
        read(github, ["a.py"])
