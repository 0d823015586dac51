"""What each model family accepts, from the table in `capabilities.yaml` (data, not `if` chains).

`capabilities_of(kind, name)` answers for any model: its family's row, or its kind's catch-all row,
so a model released after this table was written inherits its family's limits. `fit_for(kind, name,
role)` says whether a model can do a role (plan, review); `role_of(agent)` names an agent's role.
"""

from __future__ import annotations

import fnmatch
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

Role = Literal["plan", "review", "work"]
"""What an agent does: plan (the planner), review (reviewers), work (everything else)."""
Thinking = Literal["none", "adaptive", "always", "toggle"]
Structured = Literal["output_config", "text_format", "response_format", "format", "grammar"]
Sampling = Literal["temperature"]

ROLE_OF_AGENT: dict[str, Role] = {
    "planner": "plan",
    "replanner": "plan",  # the planner's models, asked about a subtask every worker failed
    "reviewer": "review",
    "quick-reviewer": "review",  # approves a run's change: never a model unfit to review
    "deep-reviewer": "review",
}
"""Agents whose work needs a capable model; every other agent is a worker."""


class Capabilities(BaseModel):
    """One row of the table: what a model family accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    """Name of the row, for messages."""
    kind: str
    """Wire protocol (endpoint kind) the row applies to."""
    models: tuple[str, ...]
    """Globs matched against the model name."""
    sampling: frozenset[Sampling] = frozenset()
    """Sampling parameters accepted."""
    thinking: Thinking = "none"
    """How the model thinks; see capabilities.yaml."""
    efforts: tuple[str, ...] = ()
    """Accepted `effort:` values; empty means effort is never sent."""
    structured: Structured = "format"
    """How structured output is asked for."""
    forced_tool: bool = True
    """Whether tool_choice may force a tool."""
    context_window: int | None = None
    """Tokens the model accepts, where documented."""
    max_output_tokens: int | None = None
    """Most output tokens, where documented."""
    unfit_for: frozenset[Role] = frozenset()
    """Roles the model cannot do."""
    instruct: bool = True
    """Whether the model was tuned to follow instructions in chat turns; false for a pretrained
    (base) model, which only continues a document: it is sent one (`engine/document_prompt`)."""

    def matches(self, kind: str, name: str) -> bool:
        """Whether this row describes `name` served over `kind`."""
        return kind == self.kind and any(fnmatch.fnmatchcase(name, g) for g in self.models)

    def accepts_think(self) -> bool:
        """Whether an explicit `think: true` can be sent."""
        return self.thinking == "toggle"


class CapabilityTable(BaseModel):
    """`capabilities.yaml` as shipped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    anthropic_api_version: str
    """The `anthropic-version` the Anthropic rows were written for."""
    families: tuple[Capabilities, ...]


@cache
def capability_table() -> CapabilityTable:
    """The packaged table."""
    text = resources.files("orchestrate.routing").joinpath("capabilities.yaml").read_text("utf-8")
    return CapabilityTable.model_validate(yaml.safe_load(text))


_NOTHING_KNOWN = Capabilities(family="unknown", kind="", models=())


def capabilities_of(kind: str, name: str) -> Capabilities:
    """The first row that matches; an unknown kind gets a row that accepts nothing special."""
    for row in capability_table().families:
        if row.matches(kind, name):
            return row
    return _NOTHING_KNOWN.model_copy(update={"kind": kind, "family": kind})


def role_of(agent_name: str) -> Role:
    """The role an agent plays, by its name."""
    return ROLE_OF_AGENT.get(agent_name, "work")


def fit_for(kind: str, name: str, role: Role) -> bool:
    """Whether the model can do `role` (every model can work)."""
    return role not in capabilities_of(kind, name).unfit_for
