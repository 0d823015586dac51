"""A plan naming a path no run could edit is refused as it is read: one line, nothing made."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.test_run_e2e import git, orchestrate, repo

from orchestrate.engine.run_files import RepoFiles

__all__ = ["repo"]  # fixture, imported to be found by pytest


@pytest.mark.parametrize("bad", [".git/config", ".GIT/hooks/pre-commit", "~notes.py", "a\x01.py"])
def test_a_bad_files_path_stops_the_run_before_any_branch(
    tmp_path: Path, repo: Path, bad: str
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(f"# P\n\n## Fine\ndo it\nfiles: calc.py\n\n## Bad\ndo that\nfiles: {bad}\n")

    done = orchestrate(repo, None, str(plan))

    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {plan}:9: task 'Bad': file path {bad!r} is refused: ")
    assert "bug in orchestrate" not in line
    assert git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    assert not RepoFiles.of(repo).root.exists()
