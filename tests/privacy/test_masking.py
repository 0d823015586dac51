"""Our own API keys never appear in what we write: ledger details, events, error messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrate.config.schema import BUILTIN_ENDPOINTS, EndpointConfig, OrchestrateConfig
from orchestrate.events import EventBus
from orchestrate.exceptions import ModelRequestError, NoModelAvailableError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.privacy.masking import mask_keys, watch_key_envs, watched_key_envs
from orchestrate.routing.router import Router
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

from .privacy_support import agent, no_sleep

GATEWAY_KEY = "acme-gw-7f3a9c2e1b5d"
ANTHROPIC_KEY = "sk-ant-api03-real-looking-key-0123456789"
REQUEST = ModelRequest(
    messages=(Message(role="user", content="Write add(a, b)."),),
    settings=ModelSettings(max_tokens=50, timeout=5.0),
)


def test_known_key_values_are_replaced_by_their_variable_name() -> None:
    watch_key_envs([EndpointConfig(kind="openai", tier="cloud", api_key_env="ACME_GATEWAY_KEY")])
    assert {"ACME_GATEWAY_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"} <= watched_key_envs()
    env = {
        "ACME_GATEWAY_KEY": GATEWAY_KEY,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "GITHUB_TOKEN": "short",  # too short to be a key: masking it would mangle text
        "UNRELATED_VALUE": "not-a-key-at-all-1234",
    }
    text = f"sent {ANTHROPIC_KEY} then {GATEWAY_KEY}; short; not-a-key-at-all-1234"
    assert mask_keys(text, env) == (
        "sent [ANTHROPIC_API_KEY] then [ACME_GATEWAY_KEY]; short; not-a-key-at-all-1234"
    )
    assert mask_keys(text, {}) == text


def test_a_key_holding_regex_characters_is_masked_literally() -> None:
    env = {"OPENAI_API_KEY": "key+with.(parens)*"}
    assert mask_keys("a key+with.(parens)* b keyXwith", env) == "a [OPENAI_API_KEY] b keyXwith"


@pytest.fixture
def gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[FakeOpenAI, Router, Ledger, list[str]]]:
    monkeypatch.setenv("ACME_GATEWAY_KEY", GATEWAY_KEY)
    fake = FakeOpenAI().start()
    endpoints = {
        **BUILTIN_ENDPOINTS,
        "gw": EndpointConfig(
            kind="openai", tier="local", base_url=fake.base_url, api_key_env="ACME_GATEWAY_KEY"
        ),
    }
    coder = agent("gw:qwen")
    config = OrchestrateConfig(
        agents={"coder": coder},
        endpoints=endpoints,
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    ledger, events, seen = Ledger(None), EventBus(), []
    events.subscribe(lambda event: seen.append(event.model_dump_json()))
    router = Router(config, ledger, events=events, run_id="keys", sleep=no_sleep)
    yield fake, router, ledger, seen
    fake.stop()


async def test_an_error_echoing_our_key_is_masked_in_the_ledger_and_events(
    gateway: tuple[FakeOpenAI, Router, Ledger, list[str]],
) -> None:
    fake, router, ledger, seen = gateway
    fake.push(Reply(status=401, error=f"key {GATEWAY_KEY} is not valid", error_type="invalid_key"))
    with pytest.raises(NoModelAvailableError) as raised:
        await router.complete(router.config.agents["coder"], REQUEST)
    await router.aclose()
    # The key really went out on the wire (it is the endpoint's key), so the echo is realistic.
    assert fake.requests[0].headers["authorization"] == f"Bearer {GATEWAY_KEY}"
    details = [a.detail or "" for a in ledger.attempts()]
    assert any("[ACME_GATEWAY_KEY]" in d for d in details)
    assert not any(GATEWAY_KEY in text for text in [*details, *seen, str(raised.value)])


async def test_a_rejected_request_error_does_not_repeat_our_key(
    gateway: tuple[FakeOpenAI, Router, Ledger, list[str]],
) -> None:
    fake, router, _, _ = gateway
    fake.push(Reply(status=400, error=f"bad request from key {GATEWAY_KEY}"))
    with pytest.raises(ModelRequestError) as raised:
        await router.complete(router.config.agents["coder"], REQUEST)
    await router.aclose()
    assert GATEWAY_KEY not in str(raised.value) and "[ACME_GATEWAY_KEY]" in str(raised.value)
