"""`orchestrate config check`: validate the YAML and show each agent's resolved fallback chain."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from orchestrate.config.loader import load_config
from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.ledger.prices import packaged_prices
from orchestrate.models.registry import split_ref

# Piped output (CI logs, tests) gets no terminal width; wrapping model names would garble them.
_PIPED_WIDTH = 200


def check(repo: Path, agents_dir: Path | None) -> None:
    """Load the layered config (raising `ConfigError` on the first problem) and print it."""
    config = load_config(repo, agents_dir)
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = _PIPED_WIDTH
    console.print(chain_table(config))
    for note in config.notes:
        console.print(f"warning: {note}", markup=False, style="yellow")
    console.print(summary(config), markup=False)


def summary(config: OrchestrateConfig) -> str:
    """The closing `config OK` line."""
    return (
        f"config OK: {len(config.agents)} agents, {len(config.endpoints)} endpoints, "
        f"prices {packaged_prices().version}"
    )


def chain_table(config: OrchestrateConfig) -> Table:
    """One row per model of every agent's chain, the agent's own columns on its first row."""
    table = Table()
    for header in ("agent", "source", "privacy", "edits", "#", "model", "tier", "endpoint"):
        table.add_column(header, no_wrap=header in ("model", "#"))
    for name, agent in config.agents.items():
        source = config.sources.get(name, "")
        for step, ref in enumerate(agent.chain, start=1):
            head = _agent_cells(name, source, agent) if step == 1 else ["", "", "", ""]
            table.add_row(
                *(Text(cell) for cell in head),
                Text(str(step)),
                Text(ref),
                *_endpoint_cells(ref, config),
                end_section=step == len(agent.chain),
            )
    return table


def _agent_cells(name: str, source: str, agent: AgentConfig) -> list[str]:
    return [name, source, agent.privacy, agent.edit_format]


def _endpoint_cells(ref: str, config: OrchestrateConfig) -> tuple[Text, Text]:
    provider, _ = split_ref(ref)
    endpoint = config.endpoints[provider]
    details: list[str] = [endpoint.kind] if endpoint.kind != provider else []
    details += [endpoint.base_url] if endpoint.base_url else []
    where = f"{provider} ({', '.join(details)})" if details else provider
    style = "yellow" if endpoint.tier == "cloud" else "green"
    return Text(endpoint.tier, style=style), Text(where)
