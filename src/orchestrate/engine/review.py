"""The reviewer's structured answer: a verdict, line comments, and follow-up subtasks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrate.engine.plan import Subtask, check_graph

Verdict = Literal["approve", "request_changes"]
Severity = Literal["info", "warning", "error"]


class ReviewComment(BaseModel):
    """One remark about the diff."""

    model_config = ConfigDict(extra="forbid")

    path: str
    """File the remark is about, as it appears in the diff."""
    line: int | None = None
    """Line in the new version of the file, if the remark is about one."""
    severity: Severity = "info"
    """`error` must be fixed; `warning` should be; `info` is a note."""
    body: str = Field(min_length=1)
    """The remark itself."""


class Review(BaseModel):
    """The reviewer's verdict on a run's combined diff."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    """`approve` when the task is done well; `request_changes` otherwise."""
    summary: str
    """Two or three sentences on the change as a whole."""
    comments: list[ReviewComment] = Field(default_factory=list)
    """Remarks on specific files and lines."""
    follow_ups: list[Subtask] = Field(default_factory=list)
    """With `request_changes`: new subtasks (new ids) that make the fixes; ignored on approve."""

    @model_validator(mode="after")
    def _follow_up_graph(self) -> Review:
        # Follow-ups may also depend on subtasks of the plan; the engine resolves those ids.
        outside = {dep for follow_up in self.follow_ups for dep in follow_up.depends_on}
        check_graph(self.follow_ups, outside - {follow_up.id for follow_up in self.follow_ups})
        return self


def follow_up_subtasks(review: Review, taken: set[str], suffix: str) -> list[Subtask]:
    """The review's follow-ups ready to run after work whose ids are `taken`.

    A follow-up whose id is taken gets `-<suffix>` appended (dependencies follow the rename);
    dependencies on ids that exist nowhere are dropped.
    """
    names = {f.id: f"{f.id}-{suffix}" if f.id in taken else f.id for f in review.follow_ups}
    known = taken | set(names.values())
    ready = []
    for follow_up in review.follow_ups:
        deps = [names.get(dep, dep) for dep in follow_up.depends_on]
        update = {"id": names[follow_up.id], "depends_on": [d for d in deps if d in known]}
        ready.append(follow_up.model_copy(update=update))
    return ready
