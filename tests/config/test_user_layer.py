"""Defaults set once per user: `$XDG_CONFIG_HOME/orchestrate/` (else `~/.config/orchestrate/`)
holds `agents/` and `providers.yaml`, below the repo's own and above the packaged defaults, and
`config check` says which layer each agent and endpoint came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrate.config.layers import config_layers, user_config_dir
from orchestrate.config.loader import load_config
from orchestrate.config.trust import trust
from orchestrate.exceptions import ConfigError

USER_PROVIDERS = """\
endpoints:
  gpu-box: {kind: openai, tier: local, base_url: "http://127.0.0.1:9100/v1"}
checks:
  allow: ["python -m pytest"]
reference_model: openai:gpt-4.1
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's own layer, under a fresh XDG_CONFIG_HOME."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "orchestrate"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def test_the_user_layer_lies_where_xdg_says_else_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_config_dir() == tmp_path / "xdg" / "orchestrate"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_config_dir() == tmp_path / "home" / ".config" / "orchestrate"


def test_user_agents_and_providers_sit_between_packaged_and_repo(
    user_dir: Path, repo: Path, tmp_path: Path
) -> None:
    write(user_dir / "providers.yaml", USER_PROVIDERS)
    write(user_dir / "agents" / "coder.yaml", "model: gpu-box:qwen\nsystem_prompt: user coder\n")
    write(user_dir / "agents" / "tester.yaml", "model: gpu-box:qwen\nsystem_prompt: user tester\n")
    write(repo / "agents" / "tester.yaml", "model: ollama:repo\nsystem_prompt: repo tester\n")
    write(tmp_path / "cli" / "formatter.yaml", "model: ollama:cli\nsystem_prompt: cli\n")

    config = load_config(repo, tmp_path / "cli")

    assert [layer.name for layer in config_layers(repo, tmp_path / "cli")] == [
        "packaged",
        "user",
        "repo",
        "--agents",
    ]
    # The user's coder replaces the packaged one; the repo's tester replaces the user's.
    assert config.agents["coder"].system_prompt == "user coder"
    assert config.agents["tester"].system_prompt == "repo tester"
    assert config.agents["formatter"].model == "ollama:cli"
    assert config.origins.agents["coder"] == "user" and config.origins.agents["tester"] == "repo"
    assert (
        config.origins.agents["formatter"] == "--agents"
        and config.origins.agents["planner"] == "packaged"
    )
    # The user's providers.yaml: its endpoint, its checks, its reference model.
    assert config.endpoints["gpu-box"].base_url == "http://127.0.0.1:9100/v1"
    assert config.origins.endpoints["gpu-box"] == "user"
    assert config.origins.endpoints["anthropic"] == "built in"
    assert config.origins.endpoints["vllm"] == "packaged"
    assert config.checks.allow == ("python -m pytest",)
    assert config.reference_model == "openai:gpt-4.1"


def test_the_users_layer_is_trusted_the_repos_only_once_trusted(user_dir: Path, repo: Path) -> None:
    write(user_dir / "providers.yaml", USER_PROVIDERS)
    write(
        repo / "agents" / "providers.yaml",
        'endpoints:\n  gpu-box: {kind: ollama, tier: local, base_url: "http://127.0.0.1:9200"}\n',
    )
    # The user's own endpoint, URL and checks count; the repo may not redirect it until trusted.
    config = load_config(repo)
    assert config.endpoints["gpu-box"].base_url == "http://127.0.0.1:9100/v1"
    assert config.endpoints["gpu-box"].kind == "openai"
    assert config.checks.allow == ("python -m pytest",)
    assert any("orchestrate trust" in note for note in config.notes)
    trust(repo / "agents")
    config = load_config(repo)
    assert config.endpoints["gpu-box"].kind == "ollama"
    assert config.origins.endpoints["gpu-box"] == "repo"


def test_a_providers_file_inside_the_users_agents_folder_is_said_where_it_goes(
    user_dir: Path, repo: Path
) -> None:
    misplaced = write(user_dir / "agents" / "providers.yaml", USER_PROVIDERS)
    with pytest.raises(ConfigError) as caught:
        load_config(repo)
    message = str(caught.value)
    assert "\n" not in message
    assert str(misplaced) in message and str(user_dir / "providers.yaml") in message


def test_a_broken_user_file_names_the_file_and_line(user_dir: Path, repo: Path) -> None:
    broken = write(
        user_dir / "agents" / "coder.yaml", "model: ollama:x\nsystem_prompt: s\nnope: 1\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(repo)
    assert str(caught.value).startswith(f"{broken}:3: nope:")


def run_check(cwd: Path, env_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(env_home), COLUMNS="300")
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", "config", "check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_check_says_each_agents_and_endpoints_layer(
    user_dir: Path, repo: Path, tmp_path: Path
) -> None:
    write(user_dir / "providers.yaml", USER_PROVIDERS)
    write(user_dir / "agents" / "coder.yaml", "model: gpu-box:qwen\nsystem_prompt: user coder\n")
    write(repo / "agents" / "tester.yaml", "model: ollama:repo\nsystem_prompt: repo tester\n")

    result = run_check(repo, tmp_path / "xdg", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    agents = {agent["agent"]: agent for agent in data["agents"]}
    assert agents["coder"]["layer"] == "user"
    assert agents["coder"]["source"] == str(user_dir / "agents" / "coder.yaml")
    assert agents["tester"]["layer"] == "repo"
    assert agents["tester"]["source"] == "agents/tester.yaml"
    assert agents["planner"]["layer"] == "packaged"
    endpoints = {e["endpoint"]: e for e in data["endpoint_layers"]}
    assert endpoints["gpu-box"] == {
        "endpoint": "gpu-box",
        "layer": "user",
        "source": str(user_dir / "providers.yaml"),
    }
    assert endpoints["anthropic"]["layer"] == "built in"
    assert endpoints["ollama"]["layer"] in {"built in", "packaged"}
    assert data["layers"] == [
        {"layer": "packaged", "path": data["layers"][0]["path"]},
        {"layer": "user", "path": str(user_dir)},
        {"layer": "repo", "path": "agents"},
    ]

    # The human output, piped: one line per row, each naming the layer.
    human = run_check(repo, tmp_path / "xdg")
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    [coder_first] = [line for line in lines if line.startswith("agent: coder ·")]
    assert "layer: user" in coder_first
    [box] = [line for line in lines if line.startswith("endpoint: gpu-box ·")]
    assert "layer: user" in box and "http://127.0.0.1:9100/v1" in box
    assert any(line.startswith("endpoint: anthropic ·") and "built in" in line for line in lines)
