"""Errors reach the user as one line and exit 2; `--debug` shows the traceback instead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def orchestrate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def bad_agents(tmp_path: Path) -> Path:
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "coder.yaml").write_text("model: olama:qwen\nsystem_prompt: x\n")
    return agents


def test_an_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = orchestrate("config", "check", "--agents", str(bad_agents(tmp_path)), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: agents/coder.yaml:1: model: unknown provider 'olama' (did you mean 'ollama'?)"
    ]
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = orchestrate(
        "--debug", "config", "check", "--agents", str(bad_agents(tmp_path)), cwd=tmp_path
    )
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert "ConfigError: agents/coder.yaml:1: model: unknown provider 'olama'" in done.stderr


def test_a_missing_plan_file_is_one_line(tmp_path: Path) -> None:
    done = orchestrate("run", "nowhere.md", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ") and "nowhere.md" in line
