"""The capability table: one row per family, inherited by future models, driving what is sent."""

from __future__ import annotations

import anthropic._constants
import pytest

from orchestrate.config.schema import BUILTIN_ENDPOINTS, OrchestrateConfig
from orchestrate.exceptions import NoModelAvailableError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.scripted import ScriptedFailure, ScriptedModel
from orchestrate.routing.capabilities import capabilities_of, capability_table, fit_for, role_of
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.routing.model_facts import fit_chain, fitted_settings, unfit_reason

from .router_support import agent, make_router, scripted


def test_the_anthropic_rows_were_written_for_the_api_version_the_sdk_sends() -> None:
    # If the SDK moves to another anthropic-version, the table must be re-checked against it.
    assert capability_table().anthropic_api_version == anthropic._constants.ANTHROPIC_API_VERSION


@pytest.mark.parametrize(
    ("kind", "name", "family"),
    [
        ("anthropic", "claude-opus-5-5", "claude-opus-5-5"),
        ("anthropic", "claude-sonnet-5-5-20261007", "claude-sonnet-5-5"),
        # Models released after the table inherit their family's row.
        ("anthropic", "claude-sonnet-5-7", "claude-5"),
        ("anthropic", "claude-fable-5-2", "claude-fable-5"),
        ("openai", "gpt-6.2-sol", "gpt-6.1+-sol"),
        ("openai", "gpt-6.3-luna", "gpt-6"),
        ("openai", "Qwen/Qwen2.5-Coder-32B-Instruct", "openai-compatible"),
        ("ollama", "qwen3-coder:30b", "qwen3-coder"),
        ("ollama", "gemma4:e4b", "ollama-thinking"),
        ("llamacpp", "gemma3-270m", "gemma3-270m"),
        ("llamacpp", "/models/other.gguf", "llamacpp"),
    ],
)
def test_models_fall_to_their_familys_row(kind: str, name: str, family: str) -> None:
    assert capabilities_of(kind, name).family == family


def test_no_anthropic_model_takes_a_sampling_parameter_and_claude_5_refuses_forced_tools() -> None:
    rows = [row for row in capability_table().families if row.kind == "anthropic"]
    assert rows
    assert all(not row.sampling for row in rows)
    for name in ("claude-opus-5-5", "claude-sonnet-5-5", "claude-fable-5-1", "claude-sonnet-5-9"):
        row = capabilities_of("anthropic", name)
        assert not row.forced_tool
        assert row.structured == "output_config"
    assert capabilities_of("anthropic", "claude-opus-5-5").thinking == "always"


def test_settings_a_model_refuses_are_dropped_before_sending() -> None:
    settings = ModelSettings(temperature=0.2, effort="none", think=True, max_tokens=500_000)

    sol = fitted_settings(capabilities_of("openai", "gpt-6.2-sol"), settings)
    luna = fitted_settings(capabilities_of("openai", "gpt-6-luna"), settings)
    coder = fitted_settings(capabilities_of("ollama", "qwen3-coder:30b"), settings)
    gemma = fitted_settings(capabilities_of("ollama", "gemma4:e4b"), settings)

    assert (sol.temperature, sol.effort, sol.think, sol.max_tokens) == (None, None, False, 128_000)
    assert luna.effort == "none"  # gpt-6-luna takes `none`; gpt-6.1/6.2 reject it
    assert (coder.temperature, coder.think) == (0.2, False)  # qwen3-coder answers think: 400
    assert gemma.think is True


def config_with(*chain: str, name: str) -> OrchestrateConfig:
    planner = agent(*chain).model_copy(update={"name": name})
    return OrchestrateConfig(
        agents={name: planner},
        endpoints=dict(BUILTIN_ENDPOINTS),
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-5-5",
    )


def test_the_packaged_gemma_is_unfit_to_plan_and_review_but_works() -> None:
    chain = ("anthropic:claude-sonnet-5-5", "llamacpp:gemma3-270m")
    planner = config_with(*chain, name="planner")
    coder = config_with(*chain, name="coder")

    assert role_of("planner") == "plan"
    assert role_of("deep-reviewer") == "review"
    assert role_of("coder") == "work"
    assert not fit_for("llamacpp", "gemma3-270m", "plan")
    assert not fit_for("llamacpp", "gemma3-270m", "review")
    assert (
        unfit_reason(planner, "llamacpp:gemma3-270m", "plan")
        == "gemma3-270m cannot plan (model facts)"
    )
    assert fit_chain(planner, planner.agents["planner"]) == ["anthropic:claude-sonnet-5-5"]
    assert fit_chain(coder, coder.agents["coder"]) == list(chain)


async def test_the_router_never_gives_a_role_to_a_model_unfit_for_it() -> None:
    down = ScriptedModel([ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "down"))])
    cfg = config_with("scripted:down", "llamacpp:gemma3-270m", name="planner")
    router, ledger, _, _ = make_router(cfg)
    request = ModelRequest(
        messages=(Message(role="user", content="plan"),), settings=ModelSettings(max_tokens=100)
    )
    with scripted(down=down), pytest.raises(NoModelAvailableError, match="cannot plan"):
        await router.complete(cfg.agents["planner"], request)
    await router.aclose()
    rows = [(r.model, r.outcome) for r in ledger.attempts()]
    assert rows == [("scripted:down", "move_on"), ("llamacpp:gemma3-270m", "skipped")]
