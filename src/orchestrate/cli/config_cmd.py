"""`orchestrate config check`: validate the YAML and show each agent's resolved fallback chain,
and which layer (packaged, the user's, the repo's, `--agents`) each agent and endpoint came from."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.text import Text

from orchestrate.cli.tables import Listing, show
from orchestrate.config.errors import display_path
from orchestrate.config.layers import config_layers
from orchestrate.config.loader import load_config
from orchestrate.config.schema import OrchestrateConfig
from orchestrate.ledger.prices import packaged_prices
from orchestrate.models.registry import split_ref


def check(repo: Path, agents_dir: Path | None, as_json: bool = False) -> None:
    """Load the layered config (raising `ConfigError` on the first problem) and print it."""
    config = load_config(repo, agents_dir)
    if as_json:
        data = as_data(config)
        data["layers"] = [
            {"layer": layer.name, "path": display_path(layer.root)}
            for layer in config_layers(repo, agents_dir)
        ]
        print(json.dumps(data, indent=2))
        return
    console = Console(highlight=False)
    show(console, chain_listing(config))
    show(console, endpoint_listing(config))
    for note in config.notes:
        console.print(f"warning: {note}", markup=False, style="yellow", soft_wrap=True)
    console.print(summary(config), markup=False)


def summary(config: OrchestrateConfig) -> str:
    """The closing `config OK` line."""
    return (
        f"config OK: {len(config.agents)} agents, {len(config.endpoints)} endpoints, "
        f"prices {packaged_prices().version}"
    )


def _endpoint(ref: str, config: OrchestrateConfig) -> tuple[str, str]:
    """The model's tier and where it is served: `ollama`, `vllm (openai, http://...)`."""
    provider, _ = split_ref(ref)
    endpoint = config.endpoints[provider]
    details: list[str] = [endpoint.kind] if endpoint.kind != provider else []
    details += [endpoint.base_url] if endpoint.base_url else []
    where = f"{provider} ({', '.join(details)})" if details else provider
    return endpoint.tier, where


def as_data(config: OrchestrateConfig) -> dict[str, object]:
    """The resolved configuration, for `--json`."""
    agents = []
    for name, agent in config.agents.items():
        chain = []
        for ref in agent.chain:
            tier, where = _endpoint(ref, config)
            chain.append({"model": ref, "tier": tier, "endpoint": where})
        agents.append(
            {
                "agent": name,
                "layer": config.origins.agents.get(name, ""),
                "source": config.sources.get(name, ""),
                "privacy": agent.privacy,
                "edit_format": agent.edit_format,
                "chain": chain,
            }
        )
    return {
        "ok": True,
        "warnings": list(config.notes),
        "agents": agents,
        "endpoints": sorted(config.endpoints),
        "endpoint_layers": [
            {
                "endpoint": name,
                "layer": config.origins.endpoints.get(name, ""),
                "source": config.origins.endpoint_files.get(name, ""),
            }
            for name in sorted(config.endpoints)
        ],
        "prices": packaged_prices().version,
    }


def chain_listing(config: OrchestrateConfig) -> Listing:
    """One row per model of every agent's chain, the agent's own columns on its first row."""
    listing = Listing(
        headers=["agent", "layer", "source", "privacy", "edits", "#", "model", "tier", "endpoint"],
        numeric={"#"},
        carry=5,
    )
    for name, agent in config.agents.items():
        source, layer = config.sources.get(name, ""), config.origins.agents.get(name, "")
        for step, ref in enumerate(agent.chain, start=1):
            first = [name, layer, source, agent.privacy, agent.edit_format]
            head = first if step == 1 else [""] * 5
            tier, where = _endpoint(ref, config)
            style = "yellow" if tier == "cloud" else "green"
            listing.add(
                *head,
                str(step),
                ref,
                Text(tier, style=style),
                where,
                end_section=step == len(agent.chain),
            )
    return listing


def endpoint_listing(config: OrchestrateConfig) -> Listing:
    """One row per endpoint: the layer and file that declared it, its kind, tier and URL."""
    listing = Listing(headers=["endpoint", "layer", "kind", "tier", "url", "source"])
    for name in sorted(config.endpoints):
        endpoint = config.endpoints[name]
        style = "yellow" if endpoint.tier == "cloud" else "green"
        listing.add(
            name,
            config.origins.endpoints.get(name, ""),
            endpoint.kind,
            Text(endpoint.tier, style=style),
            endpoint.base_url or "",
            config.origins.endpoint_files.get(name, ""),
        )
    return listing
