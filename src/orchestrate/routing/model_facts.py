"""What the configuration says about a model: its tier, its context window, its output cap."""

from __future__ import annotations

from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.ledger.pricing import Pricer
from orchestrate.models.base import ModelRequest, Tier
from orchestrate.models.registry import split_ref


class ModelFacts:
    """Answers from the endpoints' `models:` entries, the price table and the agent's settings."""

    def __init__(self, config: OrchestrateConfig, pricer: Pricer) -> None:
        self.config = config
        self.pricer = pricer

    def tier(self, ref: str) -> Tier:
        """`local` or `cloud`; an unknown endpoint counts as cloud, the safe side for privacy."""
        provider, _ = split_ref(ref)
        endpoint = self.config.endpoints.get(provider)
        return endpoint.tier if endpoint else "cloud"

    def declared_window(self, ref: str) -> int | None:
        """Tokens the model accepts as declared: providers.yaml `models:`, else the price table."""
        provider, name = split_ref(ref)
        info = self.config.endpoints[provider].models.get(name)
        if info is not None and info.context_window:
            return info.context_window
        return self.pricer.context_window(ref)

    def window(self, agent: AgentConfig, ref: str) -> int | None:
        """Tokens the model accepts: declared, else the agent's `num_ctx` (local), else priced."""
        provider, _ = split_ref(ref)
        declared = self.declared_window(ref)
        if declared is None and self.config.endpoints[provider].tier == "local":
            return agent.num_ctx
        return declared

    def capped(self, ref: str, request: ModelRequest) -> ModelRequest:
        """The request with its output limit cut to the model's own cap, if it has one."""
        provider, name = split_ref(ref)
        info = self.config.endpoints[provider].models.get(name)
        cap = info.max_output_tokens if info is not None else None
        if cap is None or request.settings.max_tokens <= cap:
            return request
        settings = request.settings.model_copy(update={"max_tokens": cap})
        return request.model_copy(update={"settings": settings})
