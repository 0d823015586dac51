"""`orchestrate doctor`: is every agent's chain usable on this machine, and if not, what to do.

Doctor is a health check, not a run: its warm-up calls are costed (the total is printed) but
kept out of the ledger, so they are not listed as a run, and nothing is written to the repo.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from orchestrate.cli.doctor_verdict import Finding, Verdict, verdict_of
from orchestrate.cli.tables import Listing, show
from orchestrate.config.loader import load_config
from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.exceptions import (
    ConfigError,
    MissingCredentialsError,
    MissingDependencyError,
    NoModelAvailableError,
    OrchestrateError,
)
from orchestrate.ledger.money import usd
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.registry import infer_model
from orchestrate.routing.failures import Failure
from orchestrate.routing.router import Router

WARMUP = ModelRequest(
    messages=(Message(role="user", content="Reply with the single word OK."),),
    settings=ModelSettings(max_tokens=8, temperature=0.0, timeout=60.0, num_ctx=2048),
)


def doctor(repo: Path, agents_dir: Path | None, as_json: bool = False) -> int:
    """Check every model of every chain, print what was found; the exit status of the verdict."""
    config = load_config(repo, agents_dir)
    findings, spent = asyncio.run(_examine(config))
    verdict = verdict_of(config, findings)
    if as_json:
        print(json.dumps(_data(config, findings, verdict, spent), indent=2))
        return verdict.exit
    console = Console(highlight=False)
    show(console, _listing(config, findings))
    for note in config.notes:
        console.print(f"warning: {note}", markup=False, style="yellow", soft_wrap=True)
    for line in [*verdict.notes, *verdict.lines]:
        console.print(line, markup=False, soft_wrap=True)
    console.print(f"warm-ups cost {usd(spent)} (a check, not a run: kept out of the ledger)")
    return verdict.exit


async def _examine(config: OrchestrateConfig) -> tuple[dict[str, Finding], float]:
    refs = {ref: agent for agent in config.agents.values() for ref in agent.chain}
    # In memory: costed like any call, but no run in the repo's ledger (and no file made).
    with Ledger(None) as ledger:
        router = Router(config, ledger, run_id="doctor")
        try:
            found = {ref: await _probe(config, router, ref, agent) for ref, agent in refs.items()}
        finally:
            await router.aclose()
        return found, sum(row.cost_usd for row in ledger.attempts())


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
    # The warm-up goes through the router so it is costed like any other call. It asks as no
    # agent in particular: whether the model answers at all, not whether it may plan.
    probe_agent = agent.model_copy(update={"name": "doctor", "retries": 0})
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


def _users(config: OrchestrateConfig, ref: str) -> list[str]:
    return [agent.name for agent in config.agents.values() if ref in agent.chain]


def _listing(config: OrchestrateConfig, findings: dict[str, Finding]) -> Listing:
    listing = Listing(
        headers=["model", "tier", "used by", "status", "fix"],
        title="orchestrate doctor",
        prose={"used by", "status", "fix"},
    )
    for ref, finding in findings.items():
        mark = Text("✓ ", style="green") if finding.ok else Text("✗ ", style="red")
        listing.add(
            ref,
            finding.tier,
            ", ".join(_users(config, ref)),
            mark + Text(finding.detail),
            finding.fix,
        )
    return listing


def _data(
    config: OrchestrateConfig, findings: dict[str, Finding], verdict: Verdict, spent: float
) -> dict[str, object]:
    models = [
        {
            "model": ref,
            "tier": f.tier,
            "used_by": _users(config, ref),
            "ok": f.ok,
            "detail": f.detail,
            "fix": f.fix,
        }
        for ref, f in findings.items()
    ]
    return {
        "verdict": verdict.name,
        "exit": int(verdict.exit),
        "agents": verdict.agents,
        "models": models,
        "problems": verdict.lines if verdict.name != "ok" else [],
        "warnings": list(config.notes),
        "degraded": verdict.notes,
        "warmup_usd": spent,
    }
