"""`orchestrate trust` covers the repository's instructions files too: recorded outside the
repository as a digest of exactly the files read, so any change (or a new file) asks again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrate.cli.trust_cmd import trust_repo
from orchestrate.config.trust import trust_file
from orchestrate.exceptions import ConfigError
from orchestrate.repo_rules.rules import load_rules


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    (root / "pkg").mkdir(parents=True)
    (root / "AGENTS.md").write_text("# r\n\nFour spaces.\n")
    (root / "pkg" / "CLAUDE.md").write_text("# pkg\n\nNo globals.\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


async def test_trust_records_the_instructions_and_a_change_asks_again(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not (await load_rules(repo)).trusted
    trust_repo(repo)
    said = capsys.readouterr().out
    assert "trusted its instructions files as they are now (2: AGENTS.md, pkg/CLAUDE.md)" in said
    assert (await load_rules(repo)).trusted
    assert not trust_file().is_relative_to(repo)  # kept outside the repository

    (repo / "pkg" / "AGENTS.md").write_text("# pkg\n\nGlobals are fine.\n")  # a new file
    git(repo, "add", ".")
    assert not (await load_rules(repo)).trusted
    trust_repo(repo)
    assert (await load_rules(repo)).trusted
    (repo / "AGENTS.md").write_text("# r\n\nTabs.\n")  # a changed file
    assert not (await load_rules(repo)).trusted

    trust_repo(repo)
    trust_repo(repo, drop=True)
    assert "no longer trusted" in capsys.readouterr().out
    assert not (await load_rules(repo)).trusted


def test_a_repository_with_nothing_to_trust_says_so(tmp_path: Path) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    git(root, "init", "-q")
    git(
        root,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "i",
    )
    with pytest.raises(ConfigError, match=r"no agents/ folder and no AGENTS\.md"):
        trust_repo(root)
