"""Warnings `config check` and `doctor` print: agent settings a model drops, models retiring soon.

A setting a model does not accept (a temperature for a model that takes none, an effort it does not
know, `think` where it cannot think) is never sent to earn a 400: the router drops it on every call,
and this says so once, here.
"""

from __future__ import annotations

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.models.base import ModelSettings
from orchestrate.routing.model_facts import capabilities_for, fitted_settings

_SETTINGS = ("temperature", "effort", "think")


def dropped_settings(config: OrchestrateConfig) -> list[str]:
    """One line per agent setting that some model of its chain does not accept."""
    notes: list[str] = []
    for name, agent in config.agents.items():
        source = config.sources.get(name, f"agent {name}")
        for setting in _SETTINGS:
            value = getattr(agent, setting)
            if value is None or value is False:
                continue
            refusing = [
                ref
                for ref in agent.chain
                if _drops(config, ref, setting, value)
                # `think` steers local models only; cloud models think as their effort says.
                and not (setting == "think" and _tier(config, ref) == "cloud")
                # An effort steers the models that reason by one; the rest (local models, which
                # take `think`) have nothing to drop it from. Only a value off a model's own
                # ladder (`none` to Claude) is worth saying.
                and not (setting == "effort" and not capabilities_for(config, ref).efforts)
            ]
            if refusing:
                notes.append(
                    f"{source}: {setting}: {value} is not sent to {', '.join(refusing)}, "
                    "which does not accept it (it is dropped on every call)"
                )
    return notes


def _tier(config: OrchestrateConfig, ref: str) -> str:
    endpoint = config.endpoints.get(ref.partition(":")[0])
    return endpoint.tier if endpoint else "cloud"


def _drops(config: OrchestrateConfig, ref: str, setting: str, value: object) -> bool:
    settings = ModelSettings.model_validate({setting: value})
    fitted = fitted_settings(capabilities_for(config, ref), settings)
    return bool(getattr(fitted, setting) != value)
