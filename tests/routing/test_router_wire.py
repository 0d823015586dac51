"""The router through the real SDKs against loopback fakes: ollama → vllm → anthropic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrate.config.schema import BUILTIN_ENDPOINTS, EndpointConfig, OrchestrateConfig
from orchestrate.events import ModelSwapped
from orchestrate.exceptions import ModelRequestError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.routing.router import Router
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply, free_port

from .router_support import Sleeps, agent

CHAIN = (
    "ollama:qwen2.5-coder:7b",
    "vllm:Qwen/Qwen2.5-Coder-32B-Instruct",
    "anthropic:claude-sonnet-4-6",
)
REQUEST = ModelRequest(
    system="You write code.",
    messages=(Message(role="user", content="Write add(a, b)."),),
    settings=ModelSettings(max_tokens=200, timeout=5.0, num_ctx=4096),
)


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeOllama, FakeOpenAI, FakeAnthropic]]:
    with FakeOllama() as ollama, FakeOpenAI() as vllm, FakeAnthropic() as claude:
        yield ollama, vllm, claude


@pytest.fixture
def servers(
    fakes: tuple[FakeOllama, FakeOpenAI, FakeAnthropic], monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeOllama, FakeOpenAI, FakeAnthropic]:
    for fake in fakes:
        fake.script.clear()
        fake.requests.clear()
        fake.unscripted.clear()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    return fakes


def config(ollama_url: str, vllm_url: str, claude_url: str) -> OrchestrateConfig:
    endpoints = {
        **BUILTIN_ENDPOINTS,
        "ollama": EndpointConfig(kind="ollama", tier="local", base_url=ollama_url),
        "vllm": EndpointConfig(kind="openai", tier="local", base_url=f"{vllm_url}/v1"),
        "anthropic": EndpointConfig(
            kind="anthropic", tier="cloud", base_url=claude_url, api_key_env="ANTHROPIC_API_KEY"
        ),
    }
    return OrchestrateConfig(
        agents={"coder": agent(*CHAIN)},
        endpoints=endpoints,
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )


async def route(cfg: OrchestrateConfig) -> tuple[str, Ledger]:
    ledger = Ledger(None)
    router = Router(cfg, ledger, run_id="wire", sleep=Sleeps())
    try:
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    finally:
        await router.aclose()
    return routed.model_ref, ledger


async def test_chain_moves_on_for_the_right_errors_and_costs_match_usage(
    servers: tuple[FakeOllama, FakeOpenAI, FakeAnthropic],
) -> None:
    ollama, vllm, claude = servers
    # Ollama's queue is full three times (retried twice, then left); vLLM's model is not served.
    ollama.push(
        *[
            Reply(
                status=503,
                error="server busy, please try again.  maximum pending requests exceeded",
            )
        ]
        * 3
    )
    vllm.push(
        Reply(status=404, error="The model `x` does not exist.", error_type="model_not_found")
    )
    claude.push(
        Reply(
            text="def add(a, b):\n    return a + b\n",
            input_tokens=1200,
            output_tokens=40,
            cache_read_tokens=800,
            cache_write_tokens=100,
        )
    )
    model, ledger = await route(config(ollama.url, vllm.url, claude.url))
    assert model == "anthropic:claude-sonnet-4-6"
    rows = ledger.attempts()
    assert [(r.model, r.outcome, r.error_class) for r in rows] == [
        (CHAIN[0], "retry", "unavailable"),
        (CHAIN[0], "retry", "unavailable"),
        (CHAIN[0], "retry", "unavailable"),
        (CHAIN[1], "move_on", "not_found"),
        (CHAIN[2], "ok", None),
    ]
    ok = rows[-1]
    assert (ok.input_tokens, ok.output_tokens, ok.cache_read_tokens, ok.cache_write_tokens) == (
        1200,
        40,
        800,
        100,
    )
    # claude-sonnet-4-6: $3 in, $15 out, $0.30 cache read, $3.75 cache write per Mtok.
    assert ok.cost_usd == pytest.approx((1200 * 3 + 40 * 15 + 800 * 0.3 + 100 * 3.75) / 1e6)
    chats = [r for r in ollama.requests if r.path == "/api/chat"]
    assert len(chats) == 3 and len(vllm.requests) == 1 and len(claude.requests) == 1
    for fake in servers:
        fake.assert_drained()


async def test_unreachable_endpoint_moves_on_at_once(
    servers: tuple[FakeOllama, FakeOpenAI, FakeAnthropic],
) -> None:
    _, vllm, claude = servers
    vllm.push(Reply(text="def add(a, b): return a + b", input_tokens=30, output_tokens=12))
    model, ledger = await route(config(f"http://127.0.0.1:{free_port()}", vllm.url, claude.url))
    assert model == CHAIN[1]
    assert [(r.outcome, r.error_class) for r in ledger.attempts()] == [
        ("move_on", "unreachable"),
        ("ok", None),
    ]
    local = ledger.attempts()[-1]
    assert local.tier == "local" and local.cost_usd == 0.0
    assert local.counterfactual_usd == pytest.approx((30 * 3 + 12 * 15) / 1e6)
    assert claude.requests == []


async def test_a_400_stops_and_nothing_else_is_called(
    servers: tuple[FakeOllama, FakeOpenAI, FakeAnthropic],
) -> None:
    ollama, vllm, claude = servers
    ollama.push(Reply(status=400, error="invalid options: num_ctx must be positive"))
    with pytest.raises(ModelRequestError):
        await route(config(ollama.url, vllm.url, claude.url))
    assert vllm.requests == [] and claude.requests == []


async def test_a_400_for_one_models_limits_moves_on_and_says_configuration_problem(
    servers: tuple[FakeOllama, FakeOpenAI, FakeAnthropic],
) -> None:
    ollama, vllm, claude = servers
    ollama.push(Reply(status=400, error='"qwen2.5-coder:7b" does not support thinking'))
    vllm.push(
        Reply(
            status=400,
            error="Unsupported parameter: 'temperature' is not supported with this model.",
            error_type="unsupported_parameter",
        )
    )
    claude.push(Reply(text="ok", input_tokens=10, output_tokens=2))
    cfg = config(ollama.url, vllm.url, claude.url)
    ledger = Ledger(None)
    router = Router(cfg, ledger, run_id="wire", sleep=Sleeps())
    swaps: list[ModelSwapped] = []
    router.events.subscribe(lambda e: swaps.append(e) if isinstance(e, ModelSwapped) else None)
    try:
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    finally:
        await router.aclose()

    assert routed.model_ref == CHAIN[2]
    assert [(r.outcome, r.error_class) for r in ledger.attempts()] == [
        ("move_on", "unsupported"),
        ("move_on", "unsupported"),
        ("ok", None),
    ]
    assert all(s.reason.startswith("configuration problem") for s in swaps)
    assert "temperature" in swaps[1].reason


async def test_rate_limit_with_retry_after_then_success_on_the_cloud(
    servers: tuple[FakeOllama, FakeOpenAI, FakeAnthropic],
) -> None:
    ollama, vllm, claude = servers
    ollama.push(Reply(status=500, error="llama runner process has terminated: signal: killed"))
    ollama.push(Reply(status=500, error="llama runner process has terminated: signal: killed"))
    ollama.push(Reply(status=500, error="llama runner process has terminated: signal: killed"))
    vllm.push(
        Reply(
            status=400,
            error="This model's maximum context length is 4096 tokens.",
            error_type="context_length_exceeded",
        )
    )
    claude.push(
        Reply(
            status=429,
            error="Number of request tokens has exceeded your per-minute rate limit",
            headers={"retry-after": "1"},
        )
    )
    claude.push(Reply(text="ok", input_tokens=10, output_tokens=2))
    model, ledger = await route(config(ollama.url, vllm.url, claude.url))
    assert model == CHAIN[2]
    assert [r.outcome for r in ledger.attempts()] == [
        "retry",
        "retry",
        "retry",
        "context_overflow",
        "retry",
        "ok",
    ]


async def test_ollamas_429_waits_as_long_as_its_retry_after_says(
    servers: tuple[FakeOllama, FakeOpenAI, FakeAnthropic],
) -> None:
    ollama, vllm, claude = servers
    ollama.push(Reply(status=429, error="too many requests", headers={"retry-after": "7"}))
    ollama.push(Reply(text="ok", input_tokens=10, output_tokens=2))
    sleeps = Sleeps()
    cfg = config(ollama.url, vllm.url, claude.url)
    router = Router(cfg, Ledger(None), run_id="wire", sleep=sleeps)
    try:
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    finally:
        await router.aclose()

    assert routed.model_ref == CHAIN[0]
    [wait] = sleeps.waits
    assert wait >= 7.0
