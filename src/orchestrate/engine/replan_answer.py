"""The planner's answer about a subtask every worker model failed, and its record in the run's
state (apart from `replan`, which asks the planner, so the run state needs no router)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.engine.plan import Subtask

Decision = Literal["rewrite", "split", "stronger", "give_up"]


class Replan(BaseModel):
    """The planner's decision about a subtask every worker model failed."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    """`rewrite` (a clearer spec), `split` (smaller subtasks), `stronger` (another model) or
    `give_up` (it cannot be done as asked)."""
    reason: str = Field(min_length=1)
    """Why, in a sentence or two; with `give_up`, what the user is told."""
    spec: str = ""
    """With `rewrite`: the new spec (files and checks stay as they are)."""
    subtasks: list[Subtask] = Field(default_factory=list)
    """With `split`: the subtasks that replace it, in the plan's format."""
    model: str = ""
    """With `stronger`: the model to carry it out, one of those offered."""

    def outcome(self) -> str:
        """What follows, in a few words."""
        match self.decision:
            case "rewrite":
                return "spec rewritten"
            case "split":
                return f"split into {', '.join(part.id for part in self.subtasks)}"
            case "stronger":
                return f"now on {self.model}"
        return "gave up"


class ReplanRecord(BaseModel):
    """A decision, kept in the run's state before it is acted on: a resume acts on it again
    instead of asking again."""

    subtask_id: str
    """The subtask it is about."""
    budget_of: str
    """The subtask of the plan whose re-plans it counts against (itself, or the one split)."""
    answer: Replan
    """The decision."""
    planner: str
    """The model that decided."""

    def line(self) -> str:
        """One line for the report."""
        return f"{self.answer.outcome()} by {self.planner}: {self.answer.reason}"
