"""What `orchestrate doctor` concludes from its probes, and the exit status that says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from orchestrate.cli.exit_codes import Exit
from orchestrate.config.schema import OrchestrateConfig


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
    """`ok`, `degraded` (an agent only gets a model unfit for its role) or `broken`."""

    name: Literal["ok", "degraded", "broken"]
    lines: list[str]
    """What to tell the user, one line each."""
    agents: dict[str, str | None] = field(default_factory=dict)
    """Each agent's first working model (None: none works)."""

    @property
    def exit(self) -> Exit:
        """0 ok, 4 degraded, 1 broken."""
        return {"ok": Exit.OK, "degraded": Exit.DEGRADED, "broken": Exit.NOT_APPROVED}[self.name]


def verdict_of(config: OrchestrateConfig, findings: dict[str, Finding]) -> Verdict:
    """Broken when an agent has no working model; else ok."""
    agents = {
        name: next((ref for ref in agent.chain if findings[ref].ok), None)
        for name, agent in config.agents.items()
    }
    broken = [name for name, ref in agents.items() if ref is None]
    if broken:
        lines = [f"✗ agent {name}: no model in its chain works" for name in broken]
        return Verdict("broken", lines, agents)
    return Verdict("ok", ["✓ every agent has at least one working model"], agents)
