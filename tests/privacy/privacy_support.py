"""Routers over ScriptedModels for the privacy tests: `scripted:*` is local, `scloud:*` is cloud."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    EndpointConfig,
    OrchestrateConfig,
    PriceEntry,
)
from orchestrate.events import Event, EventBus
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.privacy.guard import PrivacyGuard
from orchestrate.routing.router import Router


async def no_sleep(seconds: float) -> None:
    """Backoff waits cost no time in tests."""


def agent(*chain: str, privacy: str = "cloud_ok", name: str = "coder") -> AgentConfig:
    """An agent whose chain is `chain`, without retries."""
    return AgentConfig.model_validate(
        {
            "name": name,
            "model": chain[0],
            "fallbacks": list(chain[1:]),
            "retries": 0,
            "privacy": privacy,
            "system_prompt": "You write code.",
            "max_tokens": 100,
        }
    )


def make_router(
    coder: AgentConfig, guard: PrivacyGuard | None = None
) -> tuple[Router, Ledger, list[Event]]:
    """A router over an in-memory ledger, with every event collected."""
    endpoints = {**BUILTIN_ENDPOINTS, "scloud": EndpointConfig(kind="scripted", tier="cloud")}
    prices = {**packaged_prices().prices, "scloud:big": PriceEntry(input=3.0, output=15.0)}
    config = OrchestrateConfig(
        agents={coder.name: coder},
        endpoints=endpoints,
        prices=prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    ledger, events = Ledger(None), EventBus()
    seen: list[Event] = []
    events.subscribe(seen.append)
    router = Router(config, ledger, events=events, run_id="run-1", sleep=no_sleep, guard=guard)
    return router, ledger, seen


@contextmanager
def scripted(**models: ScriptedModel) -> Iterator[None]:
    """Register models under their keyword names for the duration of a test."""
    for name, model in models.items():
        register_scripted(name, model)
    try:
        yield
    finally:
        for name in models:
            unregister_scripted(name)
