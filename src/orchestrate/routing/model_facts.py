"""What is known about a model: its tier, context window, output cap, capabilities and the roles it
can do, from the configuration, the price table and the capability table (`capabilities.yaml`).

This is the API other parts call for model facts: `ModelFacts` when a router (and so a pricer) is at
hand, `capabilities_for` / `unfit_reason` with only the configuration.
"""

from __future__ import annotations

from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.ledger.pricing import Pricer
from orchestrate.models.base import ModelRequest, ModelSettings, Tier
from orchestrate.models.registry import split_ref
from orchestrate.routing.capabilities import Capabilities, Role, capabilities_of, role_of


def capabilities_for(config: OrchestrateConfig, ref: str) -> Capabilities:
    """The capability row of `provider:model`, matched by the endpoint's wire protocol."""
    provider, name = split_ref(ref)
    endpoint = config.endpoints.get(provider)
    return capabilities_of(endpoint.kind if endpoint else provider, name)


def unfit_reason(config: OrchestrateConfig, ref: str, role: Role) -> str | None:
    """Why `ref` cannot do `role` (e.g. "gemma3-270m cannot plan"); None if it can."""
    row = capabilities_for(config, ref)
    if role not in row.unfit_for:
        return None
    return f"{row.family} cannot {role} (model facts)"


def fit_chain(config: OrchestrateConfig, agent: AgentConfig) -> list[str]:
    """The agent's chain without the models unfit for its role."""
    role = role_of(agent.name)
    return [ref for ref in agent.chain if unfit_reason(config, ref, role) is None]


def fitted_settings(row: Capabilities, settings: ModelSettings) -> ModelSettings:
    """`settings` without what the model refuses: sampling it does not take, an effort it does
    not know, `think` where it cannot think; output cut to the model's documented cap."""
    update: dict[str, object] = {}
    if settings.temperature is not None and "temperature" not in row.sampling:
        update["temperature"] = None
    if settings.effort is not None and settings.effort not in row.efforts:
        update["effort"] = None
    if settings.think and not row.accepts_think():
        update["think"] = False
    if row.max_output_tokens is not None and settings.max_tokens > row.max_output_tokens:
        update["max_tokens"] = row.max_output_tokens
    return settings.model_copy(update=update) if update else settings


class ModelFacts:
    """Answers from the endpoints' `models:` entries, the price table and the capability table."""

    def __init__(self, config: OrchestrateConfig, pricer: Pricer) -> None:
        self.config = config
        self.pricer = pricer

    def tier(self, ref: str) -> Tier:
        """`local` or `cloud`; an unknown endpoint counts as cloud, the safe side for privacy."""
        provider, _ = split_ref(ref)
        endpoint = self.config.endpoints.get(provider)
        return endpoint.tier if endpoint else "cloud"

    def capabilities(self, ref: str) -> Capabilities:
        """What the model's family accepts."""
        return capabilities_for(self.config, ref)

    def unfit_reason(self, ref: str, role: Role) -> str | None:
        """Why the model cannot do `role`; None if it can."""
        return unfit_reason(self.config, ref, role)

    def declared_window(self, ref: str) -> int | None:
        """Tokens the model accepts as declared: providers.yaml `models:`, else the price table,
        else what its family documents (the capability table)."""
        provider, name = split_ref(ref)
        info = self.config.endpoints[provider].models.get(name)
        if info is not None and info.context_window:
            return info.context_window
        return self.pricer.context_window(ref) or self.capabilities(ref).context_window

    def window(self, agent: AgentConfig, ref: str) -> int | None:
        """Tokens the model accepts: declared, else the agent's `num_ctx` (local), else priced."""
        provider, _ = split_ref(ref)
        declared = self.declared_window(ref)
        if declared is None and self.config.endpoints[provider].tier == "local":
            return agent.num_ctx
        return declared

    def output_cap(self, ref: str) -> int | None:
        """Most output tokens the model is asked for: declared in providers.yaml, else documented."""
        provider, name = split_ref(ref)
        info = self.config.endpoints[provider].models.get(name)
        if info is not None and info.max_output_tokens is not None:
            return info.max_output_tokens
        return self.capabilities(ref).max_output_tokens

    def capped(self, ref: str, request: ModelRequest) -> ModelRequest:
        """The request fitted to the model: output cut to its cap, and nothing it refuses sent
        (sampling it does not take, an unknown effort, `think` where it cannot think)."""
        row = self.capabilities(ref)
        cap = self.output_cap(ref)
        if cap is not None:
            row = row.model_copy(update={"max_output_tokens": cap})
        settings = fitted_settings(row, request.settings)
        if settings is request.settings:
            return request
        return request.model_copy(update={"settings": settings})
