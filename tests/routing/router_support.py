"""Builds routers over ScriptedModels for the router tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    EndpointConfig,
    ModelInfo,
    OrchestrateConfig,
    PriceEntry,
)
from orchestrate.events import EventBus
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.routing.budget import Budget
from orchestrate.routing.router import Router

CLOUD_PRICE = PriceEntry(input=3.0, output=15.0, context_window=200_000)


def make_config(agent: AgentConfig) -> OrchestrateConfig:
    """`scripted:*` refs are local; `scloud:*` refs are cloud, priced at $3/$15 per Mtok."""
    endpoints = {
        **BUILTIN_ENDPOINTS,
        "scloud": EndpointConfig(kind="scripted", tier="cloud"),
        "sbig": EndpointConfig(
            kind="scripted", tier="local", models={"wide": ModelInfo(context_window=100_000)}
        ),
    }
    prices = {**packaged_prices().prices, "scloud:big": CLOUD_PRICE, "scloud:other": CLOUD_PRICE}
    return OrchestrateConfig(
        agents={agent.name: agent},
        endpoints=endpoints,
        prices=prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )


def agent(*chain: str, retries: int = 2, privacy: str = "cloud_ok") -> AgentConfig:
    """An agent whose chain is `chain`."""
    return AgentConfig.model_validate(
        {
            "name": "coder",
            "model": chain[0],
            "fallbacks": list(chain[1:]),
            "retries": retries,
            "privacy": privacy,
            "system_prompt": "You write code.",
            "num_ctx": 4096,
            "max_tokens": 100,
        }
    )


class Sleeps:
    """Records backoff waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


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


def make_router(
    cfg: OrchestrateConfig, *, budget: Budget | None = None, sleeps: Sleeps | None = None
) -> tuple[Router, Ledger, EventBus, list[object]]:
    """A router over an in-memory ledger, with every event collected."""
    ledger = Ledger(None)
    events = EventBus()
    seen: list[object] = []
    events.subscribe(seen.append)
    router = Router(
        cfg, ledger, events=events, budget=budget, run_id="run-1", sleep=sleeps or Sleeps()
    )
    return router, ledger, events, seen
