"""`orchestrate doctor`: is every agent's chain usable on this machine, and if not, what to do."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from orchestrate.config.loader import load_config
from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.exceptions import (
    ConfigError,
    MissingCredentialsError,
    MissingDependencyError,
    NoModelAvailableError,
    OrchestrateError,
)
from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.registry import infer_model
from orchestrate.routing.failures import Failure
from orchestrate.routing.router import Router

WARMUP = ModelRequest(
    messages=(Message(role="user", content="Reply with the single word OK."),),
    settings=ModelSettings(max_tokens=8, temperature=0.0, timeout=60.0, num_ctx=2048),
)


@dataclass(frozen=True)
class Finding:
    """One model's health."""

    ref: str
    tier: str
    ok: bool
    detail: str
    fix: str = ""


def doctor(repo: Path, agents_dir: Path | None) -> int:
    """Check every model of every chain; print a table; 0 if every agent has a working model."""
    config = load_config(repo, agents_dir)
    findings = asyncio.run(_examine(config, repo))
    console = Console()
    console.print(_table(config, findings))
    for note in config.notes:
        console.print(f"warning: {note}", markup=False, style="yellow")
    broken = [a for a in config.agents.values() if not any(findings[r].ok for r in a.chain)]
    for agent in broken:
        console.print(f"[red]✗ agent {agent.name}: no model in its chain works[/red]")
    if not broken:
        console.print("[green]✓ every agent has at least one working model[/green]")
    return 1 if broken else 0


async def _examine(config: OrchestrateConfig, repo: Path) -> dict[str, Finding]:
    refs = {ref: agent for agent in config.agents.values() for ref in agent.chain}
    with Ledger(default_ledger_path(repo)) as ledger:
        router = Router(config, ledger, run_id=f"doctor-{int(time.time())}")
        try:
            return {ref: await _probe(config, router, ref, agent) for ref, agent in refs.items()}
        finally:
            await router.aclose()


async def _probe(
    config: OrchestrateConfig, router: Router, ref: str, agent: AgentConfig
) -> Finding:
    tier = config.endpoints[ref.partition(":")[0]].tier
    try:
        model = infer_model(ref, config.endpoints)
    except (MissingCredentialsError, MissingDependencyError, ConfigError) as error:
        return Finding(ref, tier, False, "not usable", str(error))
    try:
        available = await model.check()
    except Exception as error:  # the backend classifies its SDK's errors; others re-raise
        failure = error if isinstance(error, OrchestrateError) else model.classify(error)
        if failure is None:
            raise
        return Finding(ref, tier, False, "not available", _fix(failure))
    finally:
        await model.aclose()
    # The warm-up goes through the router so it is costed and recorded like any other call.
    probe_agent = agent.model_copy(update={"retries": 0})
    started = time.perf_counter()
    try:
        await router.complete(probe_agent, WARMUP, chain=[ref])
    except NoModelAvailableError as error:
        return Finding(ref, tier, False, f"{available}; warm-up failed", str(error))
    return Finding(ref, tier, True, f"{available}; warm-up {time.perf_counter() - started:.2f}s")


def _fix(failure: OrchestrateError | Failure) -> str:
    if isinstance(failure, OrchestrateError):
        return str(failure)
    hints = {
        "unreachable": "start the server or fix its base_url in agents/providers.yaml",
        "auth": "check the API key",
        "not_found": "pull or deploy the model, or fix its name",
    }
    return f"{failure.error_class}: {hints.get(failure.error_class, failure.message)}"


def _table(config: OrchestrateConfig, findings: dict[str, Finding]) -> Table:
    table = Table(title="orchestrate doctor")
    for column in ("model", "tier", "used by", "status", "fix"):
        table.add_column(column)
    for ref, finding in findings.items():
        users = ", ".join(a.name for a in config.agents.values() if ref in a.chain)
        mark = "[green]✓[/green]" if finding.ok else "[red]✗[/red]"
        table.add_row(ref, finding.tier, users, f"{mark} {finding.detail}", finding.fix)
    return table
