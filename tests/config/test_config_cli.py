"""`orchestrate config check` run as a real process: the table on success, one line on error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrate.cli.config_cmd import check
from orchestrate.config.loader import load_config
from orchestrate.exceptions import ConfigError


def run_check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", "config", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_prints_every_chain_and_a_summary(tmp_path: Path) -> None:
    agents = tmp_path / "mine"
    agents.mkdir()
    (agents / "docs.yaml").write_text(
        "model: vllm:Qwen/Qwen2.5-Coder-32B-Instruct\n"
        "fallbacks: [llamacpp:gemma3-270m]\n"
        "system_prompt: You write docs.\n",
        encoding="utf-8",
    )
    result = run_check(tmp_path, "--agents", "mine")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    assert lines[-1] == "config OK: 11 agents, 8 endpoints, prices 2026-12-01"
    for ref in load_config(agents_dir=agents).agents["planner"].chain:
        assert ref in out
    # Piped: one plain line per model, each naming its agent; nothing shortened.
    docs_rows = [line for line in lines if "mine/docs.yaml" in line]
    assert docs_rows == [
        "agent: docs · layer: --agents · source: mine/docs.yaml · privacy: cloud_ok · edits: whole · #: 1 · "
        "model: vllm:Qwen/Qwen2.5-Coder-32B-Instruct · tier: local · "
        "endpoint: vllm (openai, http://127.0.0.1:8000/v1)",
        "agent: docs · layer: --agents · source: mine/docs.yaml · privacy: cloud_ok · edits: whole · #: 2 · "
        "model: llamacpp:gemma3-270m · tier: local · endpoint: llamacpp",
    ]
    cloud_rows = [line for line in lines if "anthropic:claude-sonnet-5-5" in line]
    assert cloud_rows
    assert all("cloud" in line for line in cloud_rows)
    assert result.stderr == ""


def test_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "coder.yaml").write_text(
        textwrap.dedent(
            """\
            # Writes the code.
            name: coder
            model: ollama:qwen2.5-coder:7b
            system_prompt: You write code.
            fallbacks:
              - llamacpp:gemma3-270m
              - olama:qwen2.5-coder:14b
            """
        ),
        encoding="utf-8",
    )
    result = run_check(tmp_path, "--agents", "agents")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: agents/coder.yaml:7: fallbacks[1]: unknown provider 'olama' "
        "(did you mean 'ollama'?)\n"
    )


def test_yaml_syntax_error_exits_2_without_traceback(tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "coder.yaml").write_text("model: [ollama:x\n", encoding="utf-8")
    result = run_check(tmp_path)  # picked up as the repo's own agents/ (default --repo .)
    assert result.returncode == 2
    assert result.stderr.startswith("error: agents/coder.yaml:")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_check_in_process_raises_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "providers.yaml").write_text("reference_model: openai:gpt-9\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^agents/providers.yaml:1: reference_model: no price"):
        check(tmp_path, None)
    assert capsys.readouterr().out == ""


def write_agent(directory: Path, name: str, body: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")


def test_a_retired_model_is_refused_naming_its_successor(tmp_path: Path) -> None:
    # The anthropic SDK's own table says claude-sonnet-4-5 retired on 2026-11-30.
    write_agent(
        tmp_path / "mine", "planner", "model: anthropic:claude-sonnet-4-5\nsystem_prompt: p\n"
    )
    result = run_check(tmp_path, "--agents", "mine")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: mine/planner.yaml:1: model: anthropic:claude-sonnet-4-5 was retired on "
        "2026-11-30; use anthropic:claude-sonnet-5-5"
    ]


def test_settings_a_model_refuses_are_warned_once(
    tmp_path: Path,
) -> None:
    write_agent(
        tmp_path / "mine",
        "planner",
        """\
        model: anthropic:claude-opus-5-5
        fallbacks: [openai:gpt-6.2-sol, ollama:qwen3-coder:30b]
        temperature: 0.3
        effort: none
        think: true
        system_prompt: p
        """,
    )
    result = run_check(tmp_path, "--agents", "mine")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning: mine/")]
    assert warnings == [
        "warning: mine/planner.yaml: temperature: 0.3 is not sent to anthropic:claude-opus-5-5, "
        "openai:gpt-6.2-sol, which does not accept it (it is dropped on every call)",
        # Not "to ollama:qwen3-coder:30b": a local model reasons by `think`, not by an effort.
        "warning: mine/planner.yaml: effort: none is not sent to anthropic:claude-opus-5-5, "
        "openai:gpt-6.2-sol, which does not accept it (it is dropped on every call)",
        "warning: mine/planner.yaml: think: True is not sent to ollama:qwen3-coder:30b, which "
        "does not accept it (it is dropped on every call)",
    ]


def test_the_packaged_agents_efforts_earn_no_warning(tmp_path: Path) -> None:
    """Each default agent states an effort for its cloud models; its local models, which take
    none, are not warned about (the warning is for a value off a model's own ladder)."""
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stdout.splitlines() if ": effort: " in line]
