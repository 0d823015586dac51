"""`doctor`'s verdict: broken (1) when an agent has no working model, degraded (4) when the
planner or a reviewer has only models unfit for its role, ok (0) otherwise; agents that would run
below their first choice are said either way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrate.cli.doctor_verdict import Finding, verdict_of
from orchestrate.cli.exit_codes import Exit
from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.ledger.prices import packaged_prices

GEMMA = "llamacpp:gemma3-270m"
OLLAMA = "ollama:qwen2.5-coder:7b"
HAIKU = "anthropic:claude-haiku-4-5"
SONNET = "anthropic:claude-sonnet-5-5"
OPENAI = "openai:gpt-5.2"


def _agent(name: str, *chain: str) -> AgentConfig:
    return AgentConfig(name=name, model=chain[0], fallbacks=list(chain[1:]), system_prompt="x")


CONFIG = OrchestrateConfig(
    agents={
        agent.name: agent
        for agent in (
            _agent("planner", SONNET, GEMMA),
            _agent("coder", OLLAMA, HAIKU, GEMMA),
            _agent("reviewer", GEMMA),
            _agent("tester", SONNET, OPENAI),
        )
    },
    endpoints=dict(BUILTIN_ENDPOINTS),
    prices=packaged_prices().prices,
    reference_model=SONNET,
)


def _findings(working: set[str]) -> dict[str, Finding]:
    refs = {ref for agent in CONFIG.agents.values() for ref in agent.chain}
    return {ref: Finding(ref, "local", ref in working, "probed") for ref in refs}


def test_only_models_unfit_to_plan_and_review_is_degraded() -> None:
    # No key, no Ollama: only the embedded model answers.
    verdict = verdict_of(CONFIG, _findings({GEMMA, OPENAI}))
    assert verdict.name == "degraded" and verdict.exit == Exit.DEGRADED
    assert int(Exit.DEGRADED) == 4
    assert [line.split(":")[0] for line in verdict.lines] == ["! agent planner", "! agent reviewer"]
    assert "every working model is unfit to plan" in verdict.lines[0]
    assert f"! coder now on {GEMMA}: the embedded model" in "\n".join(verdict.notes)


def test_a_fit_planner_and_reviewer_is_ok_even_with_a_paid_fallback() -> None:
    config = CONFIG.model_copy(
        update={"agents": {k: v for k, v in CONFIG.agents.items() if k != "reviewer"}}
    )
    verdict = verdict_of(config, _findings({SONNET, HAIKU, GEMMA, OPENAI}))
    assert verdict.name == "ok" and verdict.exit == 0
    assert verdict.notes == [
        f"! coder now on {HAIKU}: a paid cloud model, where {OLLAMA} (local, free) was the "
        "first choice"
    ]


def test_an_agent_with_no_working_model_is_broken() -> None:
    verdict = verdict_of(CONFIG, _findings({SONNET}))
    assert verdict.name == "broken" and verdict.exit == 1
    assert "✗ agent coder: no model in its chain works" in verdict.lines


def test_an_optional_quick_reviewer_with_no_working_model_is_a_note_not_broken() -> None:
    # Local models only (no keys): the quick reviewer's cloud chain is dead; the full reviewer
    # decides every run, which the note says.
    quick = _agent("quick-reviewer", HAIKU, OPENAI)
    config = CONFIG.model_copy(
        update={
            "agents": {
                **CONFIG.agents,
                "reviewer": _agent("reviewer", OLLAMA),
                "planner": _agent("planner", OLLAMA),
                "tester": _agent("tester", OLLAMA),
                "quick-reviewer": quick,
            }
        }
    )
    refs = {ref for agent in config.agents.values() for ref in agent.chain}
    findings = {ref: Finding(ref, "local", ref in {OLLAMA, GEMMA}, "probed") for ref in refs}
    verdict = verdict_of(config, findings)
    assert verdict.name == "ok", verdict.lines
    assert verdict.agents["quick-reviewer"] is None
    assert "! agent quick-reviewer: no model works: every run gets the full reviewer" in "\n".join(
        verdict.notes
    )


@pytest.mark.real_model
def test_doctor_with_only_the_embedded_model_says_degraded_and_exits_4(tmp_path: Path) -> None:
    # Planner and reviewers set up with the embedded model behind a cloud one, and no key.
    agents = tmp_path / "agents"
    agents.mkdir()
    for name in ("planner", "reviewer", "deep-reviewer"):
        (agents / f"{name}.yaml").write_text(
            f"model: {SONNET}\nfallbacks: [{GEMMA}]\nsystem_prompt: You are the {name}.\n"
        )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {"OLLAMA_HOST": "127.0.0.1:9", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    command = [sys.executable, "-m", "orchestrate", "doctor", "--repo", str(tmp_path)]
    done = subprocess.run(
        [*command, "--agents", str(agents)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "! agent planner: every working model is unfit to plan" in done.stdout
    assert done.stderr == ""
