"""Fixtures for the TUI tests: a tiny git project, scripted models and an app over them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrate.models.scripted import unregister_scripted
from orchestrate.tui.app import OrchestrateApp
from orchestrate.tui.history import TaskHistory

from .tui_support import CALC, MakeApp, Models, git, make_session


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "README.md").write_text("# calc\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def models() -> Iterator[Models]:
    registry = Models()
    yield registry
    for name in registry.models:
        unregister_scripted(name)


@pytest.fixture
def make_app(project: Path) -> MakeApp:
    def build(chains: dict[str, list[str]] | None = None, **kwargs: Any) -> OrchestrateApp:
        numbers = itertools.count(1)
        return OrchestrateApp(
            make_session(project, chains),
            run_ids=lambda _task: f"tui-{next(numbers)}",
            history=kwargs.pop("history", TaskHistory(None)),
            **kwargs,
        )

    return build
