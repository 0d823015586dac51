"""What `orchestrate doctor` concludes from its probes, and the exit status that says so.

`broken` (exit 1): an agent has no working model (bar an optional one: without a quick reviewer,
every run gets the full review, which is said as a note). `degraded` (exit 4): every agent has one,
but the planner or a reviewer only models unfit for its role (model facts). `ok` (exit 0)
otherwise. Agents that would run below what was set up for them (the embedded model, a paid
fallback) are said either way, from the same `routing.degradation` as a run's banner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from orchestrate.cli.exit_codes import Exit
from orchestrate.config.schema import OrchestrateConfig
from orchestrate.engine.quick_review import AGENT as QUICK_REVIEWER
from orchestrate.routing.capabilities import role_of
from orchestrate.routing.degradation import degradation
from orchestrate.routing.model_facts import unfit_reason

_JUDGED_ROLES = ("plan", "review")
"""Roles whose work a small model cannot do at all: without a fit model they are degraded."""
_OPTIONAL = {
    QUICK_REVIEWER: "every run gets the full reviewer (a cloud key lets the cheaper quick review "
    "approve small, check-verified changes)"
}
"""Agents a run does without, and what happens then."""


@dataclass(frozen=True)
class Finding:
    """One model's health."""

    ref: str
    tier: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Verdict:
    """`ok`, `degraded` or `broken`, with what to tell the user."""

    name: Literal["ok", "degraded", "broken"]
    lines: list[str]
    """The verdict's own lines: what is wrong and what to do (or that all is well)."""
    agents: dict[str, str | None] = field(default_factory=dict)
    """Each agent's first working model (None: none works)."""
    notes: list[str] = field(default_factory=list)
    """Agents that would run below what was set up for them, one line each."""

    @property
    def exit(self) -> Exit:
        """0 ok, 4 degraded, 1 broken."""
        return {"ok": Exit.OK, "degraded": Exit.DEGRADED, "broken": Exit.NOT_APPROVED}[self.name]


def _unfit_only(config: OrchestrateConfig, name: str, working: list[str]) -> str | None:
    """Why `name` is degraded: it plans or reviews, and every working model is unfit for that."""
    role = role_of(name)
    if role not in _JUDGED_ROLES or not working:
        return None
    reasons = [unfit_reason(config, ref, role) for ref in working]
    if any(reason is None for reason in reasons):
        return None
    return (
        f"! agent {name}: every working model is unfit to {role} "
        f"({'; '.join(f'{ref}: {why}' for ref, why in zip(working, reasons, strict=True))}): "
        f"set a cloud key or serve a model fit to {role}, then run doctor again"
    )


def verdict_of(config: OrchestrateConfig, findings: dict[str, Finding]) -> Verdict:
    """The verdict over every agent's chain, from the probes' findings."""
    working = {
        name: [ref for ref in agent.chain if findings[ref].ok]
        for name, agent in config.agents.items()
    }
    agents = {name: refs[0] if refs else None for name, refs in working.items()}
    notes = []
    for name, ref in agents.items():
        found = degradation(config, name, ref) if ref is not None else None
        if found is not None:
            notes.append(f"! {found.line()}")
    none = [name for name, ref in agents.items() if ref is None]
    notes += [
        f"! agent {name}: no model works: {_OPTIONAL[name]}" for name in none if name in _OPTIONAL
    ]
    broken = [
        f"✗ agent {name}: no model in its chain works" for name in none if name not in _OPTIONAL
    ]
    if broken:
        return Verdict("broken", broken, agents, notes)
    unfit = [line for name in agents if (line := _unfit_only(config, name, working[name]))]
    if unfit:
        return Verdict("degraded", unfit, agents, notes)
    return Verdict("ok", ["✓ every agent has at least one working model"], agents, notes)
