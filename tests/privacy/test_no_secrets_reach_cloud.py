"""The corpus through every agent, over the real SDKs: no item reaches a cloud server's wire.

Anthropic and OpenAI are loopback fakes that record every request body; Ollama is the local model.
Each agent sends the corpus in the system prompt, task text, a file, a diff and check output, and
also a clean request (which must still reach the cloud) and a `privacy: redact` request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    EndpointConfig,
    OrchestrateConfig,
)
from orchestrate.events import EventBus
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.routing.router import Router
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

from .corpus import CLEAN_CODE, CORPUS, ITEMS, corpus_block
from .privacy_support import no_sleep

AGENTS = ("planner", "coder", "tester", "formatter", "reviewer")
CHAIN = ("anthropic:claude-haiku-4-5", "openai:gpt-4.1", "ollama:qwen2.5-coder:7b")
LOCAL = CHAIN[-1]
RULES = {rule for rule, _ in CORPUS.values()}
SETTINGS = ModelSettings(max_tokens=200, timeout=5.0, num_ctx=4096)

Fakes = tuple[FakeAnthropic, FakeOpenAI, FakeOllama]


def _diff(block: str) -> str:
    added = "".join(f"+{line}\n" for line in block.splitlines())
    count = len(block.splitlines())
    return f"--- a/deploy/notes.md\n+++ b/deploy/notes.md\n@@ -1,0 +1,{count} @@\n{added}"


def _check_output(block: str) -> str:
    failures = "".join(f"E       {line}\n" for line in block.splitlines())
    return f"$ pytest -q\nF\n_____ test_deploy _____\n{failures}1 failed in 0.12s\n"


# Each carrier puts the corpus at its own place, so ledger rows say which carrier they came from.
CARRIERS: dict[str, tuple[str, Callable[[str], ModelRequest]]] = {
    "system": (
        "system",
        lambda b: ModelRequest(
            system=f"Repository context:\n{b}", messages=(Message(role="user", content="Go."),)
        ),
    ),
    "task": (
        "message 0",
        lambda b: ModelRequest(messages=(Message(role="user", content=f"Task:\n{b}"),)),
    ),
    "file": (
        "message 1",
        lambda b: ModelRequest(
            messages=(
                Message(role="user", content="Files you may read:"),
                Message(role="user", content=f"deploy/notes.md\n```\n{b}\n```", cache=True),
            )
        ),
    ),
    "diff": (
        "message 2",
        lambda b: ModelRequest(
            messages=(
                Message(role="user", content="Review this change."),
                Message(role="assistant", content="Send the diff."),
                Message(role="user", content=_diff(b)),
            )
        ),
    ),
    "check output": (
        "message 3",
        lambda b: ModelRequest(
            messages=(
                Message(role="user", content="Make the test pass."),
                Message(role="assistant", content="Done."),
                Message(role="user", content="The check failed:"),
                Message(role="user", content=_check_output(b)),
            )
        ),
    ),
}


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    with FakeAnthropic() as claude, FakeOpenAI() as gpt, FakeOllama() as ollama:
        yield claude, gpt, ollama


@pytest.fixture
def servers(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    for fake in fakes:
        fake.requests.clear()
        fake.script.clear()
        fake.unscripted.clear()
        # Every server answers whatever reaches it: a leak shows up in the bodies, not as an error.
        fake.default = Reply(text="done", input_tokens=20, output_tokens=2)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-test-key-000000")
    monkeypatch.setenv("OPENAI_API_KEY", "openai-test-key-000000")
    return fakes


def _agent(name: str, privacy: str) -> AgentConfig:
    return AgentConfig(
        name=name,
        model=CHAIN[0],
        fallbacks=list(CHAIN[1:]),
        system_prompt=f"You are the {name}.",
        privacy=privacy,
        max_tokens=200,
        retries=0,
    )


def _config(fakes: Fakes, agent: AgentConfig) -> OrchestrateConfig:
    claude, gpt, ollama = fakes
    endpoints = {
        **BUILTIN_ENDPOINTS,
        "anthropic": EndpointConfig(
            kind="anthropic", tier="cloud", base_url=claude.url, api_key_env="ANTHROPIC_API_KEY"
        ),
        "openai": EndpointConfig(
            kind="openai", tier="cloud", base_url=gpt.base_url, api_key_env="OPENAI_API_KEY"
        ),
        "ollama": EndpointConfig(kind="ollama", tier="local", base_url=ollama.url),
    }
    return OrchestrateConfig(
        agents={agent.name: agent},
        endpoints=endpoints,
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )


def _leaks(bodies: list[str]) -> list[str]:
    """Corpus items found in any body, as sent or JSON-escaped."""
    forms = {item: (item, json.dumps(item)[1:-1]) for item in ITEMS}
    return [
        item for item, (raw, escaped) in forms.items() for b in bodies if raw in b or escaped in b
    ]


@pytest.mark.parametrize("name", AGENTS)
async def test_no_corpus_item_reaches_a_cloud_model(name: str, servers: Fakes) -> None:
    claude, gpt, ollama = servers
    # The formatter ships as local_only; the others may use the cloud for clean requests.
    agent = _agent(name, "local_only" if name == "formatter" else "cloud_ok")
    ledger, events = Ledger(None), EventBus()
    seen: list[str] = []
    events.subscribe(lambda event: seen.append(event.model_dump_json()))
    router = Router(_config(servers, agent), ledger, events=events, run_id=name, sleep=no_sleep)
    block = corpus_block()
    try:
        for _, build in CARRIERS.values():
            request = build(block).model_copy(update={"settings": SETTINGS})
            assert (await router.complete(agent, request)).model_ref == LOCAL
        redact = agent.model_copy(update={"privacy": "redact"})
        task = CARRIERS["task"][1](block).model_copy(update={"settings": SETTINGS})
        assert (await router.complete(redact, task)).model_ref == CHAIN[0]
        clean = ModelRequest(
            messages=(Message(role="user", content=CLEAN_CODE),), settings=SETTINGS
        )
        routed = await router.complete(agent, clean, files=["src/cache.py"])
    finally:
        await router.aclose()

    cloud_bodies = claude.bodies() + gpt.bodies()
    assert _leaks(cloud_bodies) == []
    # The cloud did get work: the redacted request, and the clean one unless the agent is local-only.
    assert routed.model_ref == (LOCAL if name == "formatter" else CHAIN[0])
    redacted = json.loads(claude.bodies()[0])["messages"][0]["content"]
    assert {f"[REDACTED:{rule}]" for rule in RULES} <= set(
        re.findall(r"\[REDACTED:\w+\]", redacted)
    )
    # The local model got every item, so the work still gets done.
    local_bodies = ollama.bodies()
    assert set(_leaks(local_bodies)) == set(ITEMS)
    # The ledger says which rule fired where, and what was done; it never holds the text.
    decisions = ledger.privacy_decisions(name)
    assert _leaks([d.model_dump_json() for d in decisions]) == []
    assert _leaks([a.model_dump_json() for a in ledger.attempts()]) == []
    assert _leaks(seen) == []
    # Every rule fired in every carrier. A local_only agent is never scanned (nothing of it can
    # leave), so only its redact variant has rows.
    kept_local = [d for d in decisions if d.action == "local_only"]
    for carrier, (location, _) in CARRIERS.items():
        fired = {d.rule for d in kept_local if d.location.startswith(f"{location}, line ")}
        assert fired == (set() if name == "formatter" else RULES), carrier
    assert {d.rule for d in decisions if d.action == "redacted"} == RULES


async def test_a_private_file_keeps_even_a_clean_request_local(servers: Fakes) -> None:
    claude, gpt, ollama = servers
    agent = _agent("coder", "redact")
    ledger = Ledger(None)
    router = Router(_config(servers, agent), ledger, run_id="files", sleep=no_sleep)
    request = ModelRequest(
        messages=(Message(role="user", content="Rotate the keys."),), settings=SETTINGS
    )
    try:
        routed = await router.complete(agent, request, files=["secrets/prod/db.yaml"])
    finally:
        await router.aclose()
    assert routed.model_ref == LOCAL
    assert claude.requests == [] and gpt.requests == [] and len(ollama.requests) == 1
    assert [(d.rule, d.location) for d in ledger.privacy_decisions()] == [
        ("private_path", "secrets/prod/db.yaml")
    ]
