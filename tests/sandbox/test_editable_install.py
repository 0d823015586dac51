"""Checks test the branch, not the user's checkout, even with the project installed editable.

A real `uv pip install -e` of a src-layout project into a throwaway venv, first on PATH as an
activated venv is: without care, `python` in the run's worktree imports the package from the
user's checkout, so a broken edit on the branch passes its check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrate.config.schema import ChecksSettings
from orchestrate.engine.checks import run_check
from orchestrate.engine.workspace import Workspace
from orchestrate.sandbox.environments import usable_bwrap
from orchestrate.sandbox.setup import CheckSetup

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "mypkg"
version = "0.1"

[tool.hatch.build.targets.wheel]
packages = ["src/mypkg", "src/helper.py"]
"""
CHECK = "python -c 'import mypkg; assert mypkg.answer() == 42, mypkg.answer()'"
NEEDS_BWRAP = pytest.mark.skipif(
    usable_bwrap() is None,
    reason="bubblewrap cannot make a sandbox here (apt-get install bubblewrap)",
)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@dataclass
class Installed:
    checkout: Path
    venv: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The user's project, installed editable (a real install, once for the module)."""
    root = tmp_path_factory.mktemp("editable")
    checkout = root / "checkout"
    (checkout / "src" / "mypkg").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text(PYPROJECT)
    (checkout / "src" / "mypkg" / "__init__.py").write_text("def answer():\n    return 42\n")
    (checkout / "src" / "helper.py").write_text("HELP = 1\n")
    git(checkout, "init", "-q", "-b", "main")
    git(checkout, "add", ".")
    git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (pip install uv)")
    venv = root / "venv"
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    # --offline: the uv cache already holds hatchling (the project builds with it too).
    for args in (
        ["venv", "-q", str(venv)],
        ["pip", "install", "-q", "--offline", "-e", str(checkout)],
    ):
        done = subprocess.run([uv, *args], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot make an editable install here: {done.stderr.strip()[:200]}")
    return Installed(checkout, venv)


@pytest.fixture
def activated(installed: Installed, monkeypatch: pytest.MonkeyPatch) -> Installed:
    """The venv first on PATH, as `source venv/bin/activate` leaves it."""
    monkeypatch.setenv("PATH", f"{installed.venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return installed


def broken_branch(checkout: Path, run_id: str) -> Workspace:
    workspace = Workspace.create(checkout, run_id)
    (workspace.path / "src" / "mypkg" / "__init__.py").write_text("def answer():\n    return 41\n")
    (workspace.path / "src" / "helper.py").unlink()
    return workspace


def test_the_install_really_imports_from_the_checkout(activated: Installed) -> None:
    """The premise: from any folder, the venv's python finds the checkout's code."""
    workspace = broken_branch(activated.checkout, "premise")
    done = subprocess.run(
        ["python", "-c", "import mypkg, helper; print(mypkg.__file__)"],
        cwd=workspace.path,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(activated.checkout / "src" / "mypkg" / "__init__.py")


@pytest.mark.parametrize("sandbox", [pytest.param("auto", marks=NEEDS_BWRAP), "none"])
async def test_a_broken_edit_on_the_branch_fails_its_check(
    activated: Installed, sandbox: str
) -> None:
    setup = CheckSetup(ChecksSettings(sandbox=sandbox), activated.checkout)
    workspace = broken_branch(activated.checkout, f"broken-{sandbox}")

    result = await run_check(CHECK, setup.environment(workspace.files), timeout=60)

    assert not result.ok
    assert "AssertionError: 41" in result.output
    # The run said what it found and what it did about it.
    [install] = setup.editable_installs()
    assert install.sources == (activated.checkout.resolve() / "src",)
    assert any("imports from your checkout" in line for line in setup.notes())


@pytest.mark.parametrize("sandbox", [pytest.param("auto", marks=NEEDS_BWRAP), "none"])
async def test_a_correct_edit_on_the_branch_passes_its_check(
    activated: Installed, sandbox: str
) -> None:
    setup = CheckSetup(ChecksSettings(sandbox=sandbox), activated.checkout)
    workspace = Workspace.create(activated.checkout, f"good-{sandbox}")
    (workspace.path / "src" / "mypkg" / "__init__.py").write_text(
        "def answer():\n    return 42\n\n\ndef new():\n    return 1\n"
    )

    result = await run_check(
        "python -c 'import mypkg; assert mypkg.new() == 1'",
        setup.environment(workspace.files),
        timeout=60,
    )

    assert result.ok, result.output


@NEEDS_BWRAP
async def test_in_the_sandbox_a_module_deleted_on_the_branch_is_gone(activated: Installed) -> None:
    setup = CheckSetup(ChecksSettings(), activated.checkout)
    workspace = broken_branch(activated.checkout, "deleted")

    result = await run_check("python -c 'import helper'", setup.environment(workspace.files), 60)

    assert not result.ok
    assert "ModuleNotFoundError: No module named 'helper'" in result.output
