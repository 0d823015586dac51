"""`orchestrate doctor` as a user runs it, against loopback fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrate.ledger.store import default_ledger_path
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_server import Reply


def write_agents(root: Path, claude_url: str, ollama_url: str) -> Path:
    agents = root / "agents"
    agents.mkdir()
    (agents / "providers.yaml").write_text(
        "endpoints:\n"
        f"  anthropic: {{kind: anthropic, tier: cloud, base_url: '{claude_url}',"
        " api_key_env: ANTHROPIC_API_KEY}\n"
        f"  ollama: {{kind: ollama, tier: local, base_url: '{ollama_url}'}}\n"
    )
    (agents / "planner.yaml").write_text(
        "model: anthropic:claude-sonnet-4-6\nfallbacks: [openai:gpt-4.1]\nsystem_prompt: plan\n"
    )
    # Every default agent is overridden, so no chain reaches the embedded model here.
    for name in (
        "coder",
        "tester",
        "formatter",
        "reviewer",
        "quick-reviewer",
        "triage",
        "routine-reviewer",
        "deep-reviewer",
        "review-formatter",
    ):
        (agents / f"{name}.yaml").write_text(
            f"model: ollama:qwen2.5-coder:7b\nsystem_prompt: {name}\n"
        )
    return agents


def doctor(repo: Path, agents: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["ANTHROPIC_API_KEY"] = "sk-ant-test"
    env["COLUMNS"] = "400"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrate",
            "doctor",
            "--agents",
            str(agents),
            "--repo",
            str(repo),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_doctor_reports_each_model_with_its_fix(tmp_path: Path) -> None:
    with FakeAnthropic() as claude, FakeOllama(installed=["llama3:8b"]) as ollama:
        claude.push(Reply(text="OK", input_tokens=12, output_tokens=1))
        result = doctor(tmp_path, write_agents(tmp_path, claude.url, ollama.url))
    out = result.stdout
    # The coder's only model is not installed: the agent is broken, exit 1, and the fix is named.
    assert result.returncode == 1, result.stderr
    assert "ollama pull qwen2.5-coder:7b" in out
    assert "OPENAI_API_KEY" in out  # a cloud model without its key says which variable to set
    assert "✗ agent coder" in out
    assert "warm-up" in out
    # The warm-up went through the router and was costed, but doctor is a check, not a run:
    # nothing in the ledger, nothing written to the repository.
    assert "warm-ups cost $0.0001 (a check, not a run: kept out of the ledger)" in out
    assert not default_ledger_path(tmp_path).exists()
    assert not (tmp_path / ".orchestrate").exists()
    assert result.stderr == ""


def test_doctor_exits_zero_when_every_agent_has_a_working_model(tmp_path: Path) -> None:
    with FakeAnthropic() as claude, FakeOllama(installed=["qwen2.5-coder:7b"]) as ollama:
        claude.push(Reply(text="OK"))
        ollama.default = Reply(text="OK")
        result = doctor(tmp_path, write_agents(tmp_path, claude.url, ollama.url))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every agent has at least one working model" in result.stdout


def test_doctor_refuses_a_retired_model_and_warns_of_settings_a_model_drops(
    tmp_path: Path,
) -> None:
    agents = write_agents(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9")
    planner = agents / "planner.yaml"
    planner.write_text("model: anthropic:claude-sonnet-4-5\nsystem_prompt: plan\n")
    refused = doctor(tmp_path, agents)
    assert refused.returncode == 2
    assert "claude-sonnet-4-5 was retired on 2026-11-30; use anthropic:claude-sonnet-5-5" in (
        refused.stderr
    )

    (tmp_path / "ok").mkdir()
    with FakeAnthropic() as claude, FakeOllama(installed=["qwen2.5-coder:7b"]) as ollama:
        agents_ok = write_agents(tmp_path / "ok", claude.url, ollama.url)
        (agents_ok / "planner.yaml").write_text(
            "model: anthropic:claude-sonnet-5-5\ntemperature: 0.2\nsystem_prompt: plan\n"
        )
        claude.default = Reply(text="OK", input_tokens=12, output_tokens=1)
        ollama.default = Reply(text="OK", input_tokens=12, output_tokens=1)
        result = doctor(tmp_path / "ok", agents_ok)
    assert "warning:" in result.stdout
    assert "temperature: 0.2 is not sent to anthropic:claude-sonnet-5-5" in result.stdout
    # The warm-up went through without the temperature Claude would refuse.
    assert all("temperature" not in body for body in claude.bodies())


def test_doctor_json_says_the_verdict_and_each_model(tmp_path: Path) -> None:
    with FakeAnthropic() as claude, FakeOllama(installed=["llama3:8b"]) as ollama:
        claude.push(Reply(text="OK", input_tokens=12, output_tokens=1))
        result = doctor(tmp_path, write_agents(tmp_path, claude.url, ollama.url), "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "broken" and data["exit"] == 1
    assert data["agents"]["planner"] == "anthropic:claude-sonnet-4-6"
    assert data["agents"]["coder"] is None
    models = {model["model"]: model for model in data["models"]}
    assert models["ollama:qwen2.5-coder:7b"]["ok"] is False
    assert "ollama pull qwen2.5-coder:7b" in models["ollama:qwen2.5-coder:7b"]["fix"]
    assert models["anthropic:claude-sonnet-4-6"]["used_by"] == ["planner"]
    # 12 input and 1 output token at claude-sonnet-4-6's $3/$15 per Mtok.
    assert data["warmup_usd"] == pytest.approx(12 * 3e-6 + 15e-6)
    assert "✗ agent coder: no model in its chain works" in data["problems"]
