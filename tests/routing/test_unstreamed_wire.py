"""A streamed request answered with HTTP 200 and a plain JSON body (a server or proxy that
ignores `stream`): each server-sent-events client we use says so in one classified line, and the
router moves along the chain to the next model, which answers. Ollama streams newline-delimited
JSON whose last line is the whole final object, so a one-line plain body is a complete answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from orchestrate.config.schema import BUILTIN_ENDPOINTS, EndpointConfig, OrchestrateConfig
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.routing.routed import Routed
from orchestrate.routing.router import Router
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import FakeServer, Reply

from .router_support import Sleeps, agent

REQUEST = ModelRequest(
    system="You write code.",
    messages=(Message(role="user", content="Write add(a, b)."),),
    settings=ModelSettings(max_tokens=200, timeout=5.0, num_ctx=4096),
)
FALLBACK = "ollama:qwen2.5-coder:7b"
ANSWER = "def add(a, b):\n    return a + b\n"

FAULTED = {
    "anthropic messages": "anthropic:claude-sonnet-4-6",
    "openai responses": "openai:gpt-4.1",
    "openai-compatible chat": "vllm:Qwen/Qwen2.5-Coder-32B-Instruct",
}


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeServer]]:
    with (
        FakeAnthropic() as claude,
        FakeOpenAI() as openai_cloud,
        FakeOpenAI() as vllm,
        FakeOllama() as faulted_ollama,
        FakeOllama() as ollama,
    ):
        yield {
            "anthropic": claude,
            "openai": openai_cloud,
            "vllm": vllm,
            "ollama2": faulted_ollama,
            "ollama": ollama,
        }


def _config(fakes: dict[str, FakeServer], first: str) -> OrchestrateConfig:
    def url(name: str) -> str:
        return fakes[name].url + ("/v1" if name in ("openai", "vllm") else "")

    endpoints = {
        **BUILTIN_ENDPOINTS,
        "anthropic": EndpointConfig(
            kind="anthropic", tier="cloud", base_url=url("anthropic"), api_key_env="ANTHROPIC_KEY"
        ),
        "openai": EndpointConfig(
            kind="openai", tier="cloud", base_url=url("openai"), api_key_env="OPENAI_KEY"
        ),
        "vllm": EndpointConfig(kind="openai", tier="local", base_url=url("vllm")),
        "ollama2": EndpointConfig(kind="ollama", tier="local", base_url=url("ollama2")),
        "ollama": EndpointConfig(kind="ollama", tier="local", base_url=url("ollama")),
    }
    return OrchestrateConfig(
        agents={"coder": agent(first, FALLBACK)},
        endpoints=endpoints,
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )


async def _route(
    fakes: dict[str, FakeServer], first: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Routed[BaseModel], Ledger]:
    """`first` answers with the whole body; the next in the chain answers ANSWER as a stream."""
    monkeypatch.setenv("ANTHROPIC_KEY", "sk-ant-test")
    monkeypatch.setenv("OPENAI_KEY", "sk-test")
    for fake in fakes.values():
        fake.script.clear()
        fake.requests.clear()
    # The whole answer, as JSON: a model that answered, sent without the stream it was asked for.
    fakes[first.split(":", 1)[0]].push(Reply(text="a plain answer", unstreamed=True))
    fakes["ollama"].push(Reply(text=ANSWER))
    ledger = Ledger(None)
    router = Router(_config(fakes, first), ledger, run_id="wire", sleep=Sleeps())
    try:
        routed = await router.complete(router.config.agents["coder"], REQUEST)
    finally:
        await router.aclose()
    return routed, ledger


@pytest.mark.parametrize("client", FAULTED)
async def test_a_plain_json_answer_to_a_stream_moves_along_the_chain(
    client: str, fakes: dict[str, FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = FAULTED[client]
    faulted = fakes[first.split(":", 1)[0]]
    routed, ledger = await _route(fakes, first, monkeypatch)

    assert faulted.requests[0].json()["stream"] is True
    assert (routed.model_ref, routed.response.text) == (FALLBACK, ANSWER)
    rows = ledger.attempts()
    assert [(r.model, r.outcome, r.error_class) for r in rows] == [
        (first, "move_on", "not_streamed"),
        (FALLBACK, "ok", None),
    ]
    said = rows[0].detail or ""
    assert "\n" not in said
    assert "application/json" in said and "not an event stream" in said, said


async def test_ollamas_one_line_plain_body_is_its_whole_final_line(
    fakes: dict[str, FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    routed, ledger = await _route(fakes, "ollama2:qwen2.5-coder:7b", monkeypatch)

    assert fakes["ollama2"].requests[0].json()["stream"] is True
    assert (routed.model_ref, routed.response.text) == (
        "ollama2:qwen2.5-coder:7b",
        "a plain answer",
    )
    assert [(r.outcome, r.output_tokens) for r in ledger.attempts()] == [("ok", 5)]
