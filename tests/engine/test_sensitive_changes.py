"""Our keys are written nowhere and reach no model; an edit adding a workflow, a git hook, a CI
file or one of our keys is flagged and committed only with the user's yes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from orchestrate.cli.progress import describe
from orchestrate.engine.checks import run_checks
from orchestrate.engine.sensitive_changes import (
    ALLOW_FLAG,
    BatchChangePolicy,
    sensitive_changes,
)
from orchestrate.engine.worker import Worker
from orchestrate.events import CheckFailed, RunNotice
from orchestrate.models.scripted import ScriptedModel, Step
from orchestrate.sandbox.check_env import check_environ
from orchestrate.sandbox.environments import LocalEnvironment

from .test_worker import Harness, git, repo, scripted, sub_task

__all__ = ["repo", "scripted"]  # fixtures, imported to be found by pytest

TOKEN = "ghp_R8sT2uV5wX9yZ3aB6cD1eF4gH7iJ0kL2mN5o"
WORKFLOW = (
    "name: ci\non: push\njobs:\n  leak:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: echo '${{ toJSON(secrets) }}'\n"
)


def whole(path: str, text: str) -> str:
    return f"Here you go.\n\n{path}\n```\n{text}```\n"


@pytest.fixture(autouse=True)
def our_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


def test_flagged_changes_are_named_with_what_they_are() -> None:
    before = {"calc.py": "x = 1\n", "README.md": f"token: {TOKEN}\n", ".husky/pre-commit": None}
    after = {
        "calc.py": f"x = 1\nTOKEN = '{TOKEN}'\n",
        "README.md": f"token: {TOKEN}\nmore\n",  # the key was there already: not added
        ".husky/pre-commit": "curl evil\n",
        ".github/workflows/ci.yml": WORKFLOW,
    }
    before[".github/workflows/ci.yml"] = None

    assert sensitive_changes(before, after) == [
        "calc.py: writes the value of GITHUB_TOKEN",
        ".husky/pre-commit: changes a git hook (husky)",
        ".github/workflows/ci.yml: changes a GitHub Actions workflow",
    ]


async def test_a_workflow_is_not_committed_without_the_users_yes(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    scripted("w1", [whole(".github/workflows/ci.yml", WORKFLOW)])
    harness = Harness(repo, ["scripted:w1"])
    task = sub_task(edit_files=[".github/workflows/ci.yml"], checks=[])

    result = await Worker(harness.ctx, harness.agent, task).run()

    assert result.status == "failed" and result.commit is None
    assert "not committed: .github/workflows/ci.yml: changes a GitHub Actions workflow" in (
        result.detail
    )
    assert ALLOW_FLAG in result.detail
    assert result.flagged == [
        ".github/workflows/ci.yml: changes a GitHub Actions workflow: NOT committed"
    ]
    assert harness.workspace.commits() == []
    assert not (harness.workspace.path / ".github" / "workflows" / "ci.yml").exists()


async def test_with_the_users_yes_it_is_committed_and_still_flagged(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    scripted("w1", [whole(".github/workflows/ci.yml", WORKFLOW)])
    harness = Harness(repo, ["scripted:w1"])
    harness.ctx.approve_changes = BatchChangePolicy(allow=True)
    task = sub_task(edit_files=[".github/workflows/ci.yml"], checks=[])

    result = await Worker(harness.ctx, harness.agent, task).run()

    assert result.status == "done" and result.commit is not None
    assert result.flagged == [
        ".github/workflows/ci.yml: changes a GitHub Actions workflow: "
        f"committed (yes from {ALLOW_FLAG})"
    ]


async def test_an_edit_writing_our_key_is_not_committed(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    scripted("w1", [whole("calc.py", f"TOKEN = '{TOKEN}'\n")])
    harness = Harness(repo, ["scripted:w1"])

    result = await Worker(harness.ctx, harness.agent, sub_task(checks=[])).run()

    assert result.status == "failed" and result.commit is None
    assert result.flagged == ["calc.py: writes the value of GITHUB_TOKEN: NOT committed"]
    assert TOKEN not in git(harness.workspace.path, "log", "-p", "--all")


async def test_requests_to_local_models_carry_no_key(
    repo: Path, scripted: Callable[[str, Sequence[Step]], ScriptedModel]
) -> None:
    # The key sits in a file the worker reads: the local model still never sees it.
    (repo / "README.md").write_text(f"deploy with {TOKEN}\n")
    git(repo, "commit", "-qam", "oops", "--author", "t <t@t>")
    model = scripted("w1", [whole("calc.py", "def add(a, b):\n    return a + b\n")])
    harness = Harness(repo, ["scripted:w1"])

    await Worker(harness.ctx, harness.agent, sub_task(checks=[])).run()

    [sent] = model.requests
    assert TOKEN not in sent.system + "".join(m.content for m in sent.messages)
    assert "deploy with [GITHUB_TOKEN]" in sent.messages[0].content


async def test_check_output_and_the_lines_on_stderr_are_masked(tmp_path: Path) -> None:
    (tmp_path / "leak.txt").write_text(f"token={TOKEN}\n")
    here = LocalEnvironment(tmp_path, check_environ(tmp_path, tmp_path))

    [result] = await run_checks(["cat leak.txt; exit 1"], here, 10)

    assert result.output == "token=[GITHUB_TOKEN]\n"
    failed = CheckFailed(run_id="r", subtask_id="s", command="cat", output=f"x {TOKEN}")
    notice = RunNotice(run_id="r", text=f"not running `echo {TOKEN}`")
    for event in (failed, notice):
        line = describe(event)
        assert line is not None and TOKEN not in line and "[GITHUB_TOKEN]" in line
