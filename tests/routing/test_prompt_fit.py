"""Every prompt fits or moves on: measured before sending against the smallest of num_ctx, the
declared window and the window the server runs; a prompt the server cut is caught, recorded and
sent on to a larger model. Real SDKs against FakeOllama and FakeAnthropic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    EndpointConfig,
    ModelInfo,
    OrchestrateConfig,
)
from orchestrate.events import Event, EventBus, ModelSkipped, ModelSwapped, PromptTruncated
from orchestrate.exceptions import PromptTooLargeError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.routing.fit import estimate_tokens, least_tokens
from orchestrate.routing.router import Router
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_server import Reply

OLLAMA = "ollama:qwen2.5-coder:7b"
CLOUD = "anthropic:claude-haiku-4-5"  # 200K tokens, from the price table
# ~52K tokens of Python as a real tokenizer counts it (about 3.3 characters a token).
CODE = "def f(x):\n    return x\n" * 7_150


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeOllama, FakeAnthropic]]:
    with FakeOllama() as ollama, FakeAnthropic() as claude:
        yield ollama, claude


@dataclass
class Rig:
    ollama: FakeOllama
    claude: FakeAnthropic
    router: Router
    ledger: Ledger
    events: list[Event]
    agent: AgentConfig

    def chats(self) -> int:
        return sum(r.path == "/api/chat" for r in self.ollama.requests)

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]


def make_rig(
    ollama: FakeOllama,
    claude: FakeAnthropic,
    *,
    num_ctx: int,
    models: dict[str, ModelInfo],
    fallbacks: tuple[str, ...] = (CLOUD,),
) -> Rig:
    endpoints = {
        **BUILTIN_ENDPOINTS,
        "ollama": EndpointConfig(kind="ollama", tier="local", base_url=ollama.url, models=models),
        "anthropic": EndpointConfig(
            kind="anthropic", tier="cloud", base_url=claude.url, api_key_env="ANTHROPIC_API_KEY"
        ),
    }
    agent = AgentConfig(
        name="coder",
        model=OLLAMA,
        fallbacks=list(fallbacks),
        system_prompt="You write code.",
        retries=0,
        num_ctx=num_ctx,
        max_tokens=2048,
    )
    config = OrchestrateConfig(
        agents={"coder": agent},
        endpoints=endpoints,
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    ledger = Ledger(None)
    router = Router(config, ledger, events=bus, run_id="fit")
    return Rig(ollama, claude, router, ledger, events, agent)


@pytest.fixture
async def rig(
    servers: tuple[FakeOllama, FakeAnthropic], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Rig]:
    ollama, claude = servers
    ollama.reset()
    claude.script.clear()
    claude.requests.clear()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    built = make_rig(ollama, claude, num_ctx=131_072, models={})
    yield built
    await built.router.aclose()


def ask(text: str, agent: AgentConfig) -> ModelRequest:
    return ModelRequest(
        system=agent.system_prompt,
        messages=(Message(role="user", content=text),),
        settings=agent.settings(),
    )


async def test_a_prompt_larger_than_the_window_the_server_runs_goes_to_the_next_model_unsent(
    rig: Rig,
) -> None:
    # num_ctx 131072 asked, but Ollama runs this model at most at its trained 32768.
    rig.ollama.trained_length = 32768
    rig.claude.push(Reply(text="def f(x):\n    return x\n", input_tokens=52_000))

    routed = await rig.router.complete(rig.agent, ask(CODE, rig.agent))

    assert routed.model_ref == CLOUD
    assert rig.chats() == 0  # never sent to be cut
    [skip] = rig.of(ModelSkipped)
    assert isinstance(skip, ModelSkipped) and skip.model == OLLAMA
    assert "do not fit the 32,768-token window (the server runs it at 32768)" in skip.reason
    rows = [(r.model, r.outcome) for r in rig.ledger.attempts()]
    assert rows == [(OLLAMA, "skipped"), (CLOUD, "ok")]


async def test_a_prompt_the_server_cut_is_recorded_discarded_and_moved_on(rig: Rig) -> None:
    # This Ollama does not say its trained length; it runs 32768 all the same and keeps the
    # start and half the window of a longer prompt (Ollama's context shift).
    rig.ollama.loaded, rig.ollama.context_length = ["qwen2.5-coder:7b"], 32768
    rig.ollama.push(Reply(text="an answer to half a question", prompt_tokens_reported=32768))
    rig.claude.push(Reply(text="the real answer", input_tokens=52_000))

    routed = await rig.router.complete(rig.agent, ask(CODE, rig.agent))

    assert routed.model_ref == CLOUD and routed.response.text == "the real answer"
    [cut] = rig.of(PromptTruncated)
    assert isinstance(cut, PromptTruncated)
    assert (cut.model, cut.read_tokens, cut.window) == (OLLAMA, 32768, 32768)
    assert cut.sent_tokens == least_tokens(len(CODE) + len(rig.agent.system_prompt))
    first, second = rig.ledger.attempts()
    assert (first.model, first.outcome, first.error_class) == (OLLAMA, "truncated", "truncated")
    assert first.input_tokens == 32768  # the call was made and is counted
    assert first.detail is not None and "its answer was discarded" in first.detail
    assert (second.model, second.outcome) == (CLOUD, "ok")
    [swap] = rig.of(ModelSwapped)
    assert isinstance(swap, ModelSwapped) and swap.reason == "truncated"

    # The run now knows the window this server runs: the next large prompt is not sent to it.
    rig.claude.push(Reply(text="again", input_tokens=52_000))
    again = await rig.router.complete(rig.agent, ask(CODE, rig.agent))
    assert again.model_ref == CLOUD
    assert rig.chats() == 1


async def test_the_declared_window_counts_when_it_is_smaller_than_num_ctx(
    servers: tuple[FakeOllama, FakeAnthropic], monkeypatch: pytest.MonkeyPatch
) -> None:
    ollama, claude = servers
    ollama.reset()
    claude.script.clear()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    rig = make_rig(
        ollama,
        claude,
        num_ctx=131_072,
        models={"qwen2.5-coder:7b": ModelInfo(context_window=32768)},
    )
    claude.push(Reply(text="ok"))
    try:
        routed = await rig.router.complete(rig.agent, ask(CODE, rig.agent))
    finally:
        await rig.router.aclose()
    assert routed.model_ref == CLOUD
    [skip] = rig.of(ModelSkipped)
    assert isinstance(skip, ModelSkipped)
    assert "32,768-token window (its declared context window)" in skip.reason


async def test_a_prompt_that_fits_no_model_says_so(
    servers: tuple[FakeOllama, FakeAnthropic],
) -> None:
    ollama, claude = servers
    ollama.reset()
    ollama.trained_length = 32768
    wider = {"qwen2.5-coder:32b": ModelInfo(context_window=40_000)}
    rig = make_rig(
        ollama, claude, num_ctx=131_072, models=wider, fallbacks=("ollama:qwen2.5-coder:32b",)
    )
    try:
        with pytest.raises(PromptTooLargeError, match="the prompt fits no model of its chain"):
            await rig.router.complete(rig.agent, ask(CODE, rig.agent))
    finally:
        await rig.router.aclose()
    assert rig.chats() == 0
    reasons = [e.reason for e in rig.of(ModelSkipped) if isinstance(e, ModelSkipped)]
    assert len(reasons) == 2 and all("do not fit" in reason for reason in reasons)


def test_the_estimate_does_not_fall_short_on_code_and_the_least_does_not_overshoot() -> None:
    # 52K tokens of code at 3.3 characters a token, as a tokenizer measured.
    tokens = round(len(CODE) / 3.3)
    assert estimate_tokens(len(CODE)) >= tokens
    assert least_tokens(len(CODE)) <= tokens
    assert least_tokens(len(CODE)) > 32768  # so a 32K-token read is seen for the cut it is
