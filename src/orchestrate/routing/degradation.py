"""When a model answering for an agent is worse than what the user set up, and why, in words.

Decided from declared facts only, never from a model's name: the capability table's roles a
model cannot do (`unfit_reason`), the endpoint's kind (`llamacpp` runs in-process on this
machine's CPU) and tier (`cloud` costs money). The TUI's banner, the run's progress lines, the
report and `doctor` all ask here, so they always agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.events import AttemptStarted, Event, EventBus, RoleDegraded
from orchestrate.ledger.store import AttemptRecord
from orchestrate.models.registry import split_ref
from orchestrate.routing.capabilities import role_of
from orchestrate.routing.model_facts import unfit_reason

EMBEDDED_KIND = "llamacpp"
"""Endpoint kind of a model run inside orchestrate itself, on the CPU: small and slow."""


@dataclass(frozen=True)
class Degradation:
    """An agent answered by a model below what it was set up for."""

    agent: str
    model: str
    reason: str

    def line(self) -> str:
        """`planner now on llamacpp:gemma3-270m: ...`, for banners, logs and reports."""
        return f"{self.agent} now on {self.model}: {self.reason}"


def degradation(config: OrchestrateConfig, agent_name: str, ref: str) -> Degradation | None:
    """Why `ref` answering for `agent_name` is a degradation the user must hear of, or None.

    Degraded: a model unfit for the agent's role; the embedded model when the agent's first
    choice is not; a paid cloud model when the agent's first choice is a local one.
    """
    unfit = unfit_reason(config, ref, role_of(agent_name))
    if unfit is not None:
        return Degradation(agent_name, ref, f"unfit for the {agent_name}'s work ({unfit})")
    agent = config.agents.get(agent_name)
    if agent is None or not agent.chain or ref == agent.chain[0]:
        return None
    first = agent.chain[0]
    here, preferred = _endpoint(config, ref), _endpoint(config, first)
    if here is None or preferred is None:
        return None
    if here[0] == EMBEDDED_KIND and preferred[0] != EMBEDDED_KIND:
        reason = f"the embedded model on this machine's CPU (slow, small), not {first}"
        return Degradation(agent_name, ref, reason)
    if here[1] == "cloud" and preferred[1] == "local":
        reason = f"a paid cloud model, where {first} (local, free) was the first choice"
        return Degradation(agent_name, ref, reason)
    return None


def _endpoint(config: OrchestrateConfig, ref: str) -> tuple[str, str] | None:
    """The kind and tier of the endpoint serving `ref`."""
    provider, _ = split_ref(ref)
    endpoint = config.endpoints.get(provider)
    return (endpoint.kind, endpoint.tier) if endpoint is not None else None


def degraded_lines(config: OrchestrateConfig, attempts: Iterable[AttemptRecord]) -> list[str]:
    """One line per agent and model that answered (or was asked) below what was set up, in the
    order first met: for a run's report, from its ledger rows."""
    lines: list[str] = []
    for row in attempts:
        if row.outcome == "skipped":
            continue
        found = degradation(config, row.agent, row.model)
        if found is not None and found.line() not in lines:
            lines.append(found.line())
    return lines


class DegradationWatch:
    """A bus listener: when an attempt starts on a degraded model, emit `RoleDegraded` (once per
    run, agent and model), so every display says so while it happens."""

    name = "degradation watch"

    def __init__(self, config: OrchestrateConfig, events: EventBus) -> None:
        self.config = config
        self.events = events
        self._told: set[tuple[str, str, str]] = set()

    def __call__(self, event: Event) -> None:
        if not isinstance(event, AttemptStarted):
            return
        key = (event.run_id, event.agent, event.model)
        if key in self._told:
            return
        self._told.add(key)
        found = degradation(self.config, event.agent, event.model)
        if found is not None:
            self.events.emit(
                RoleDegraded(
                    run_id=event.run_id, agent=found.agent, model=found.model, reason=found.reason
                )
            )
