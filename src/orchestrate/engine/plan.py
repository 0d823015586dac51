"""A plan is data: subtasks with their files, dependencies and acceptance checks.

Every semantic rule (unique ids, known dependencies, no cycles, safe relative paths) is a pydantic
validator, so a planner answer that breaks one fails validation and the router's repair round
sends the reason back to the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrate.engine.edits.paths import normalise_edit_path
from orchestrate.exceptions import EditRefusedError

SubtaskKind = Literal["code", "test", "format"]

AGENT_FOR_KIND: dict[str, str] = {"code": "coder", "test": "tester", "format": "formatter"}
"""The worker agent that carries out each kind of subtask."""

MAX_SUBTASKS = 30
"""A plan longer than this is too coarse a task: the planner should be asked for less."""


def _safe_paths(paths: list[str]) -> list[str]:
    clean: list[str] = []
    for raw in paths:
        try:
            path = normalise_edit_path(raw)
        except EditRefusedError as error:
            # ValueError is what pydantic turns into a validation error for the repair round.
            raise ValueError(f"unsafe path {raw!r}: {error}") from None
        if path not in clean:
            clean.append(path)
    return clean


class Subtask(BaseModel):
    """One unit of work for one worker, small enough for a local model."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    """Short unique id (lowercase letters, digits, '-' and '_'), e.g. `add-parser`."""
    title: str = Field(min_length=1, max_length=120)
    """One line, imperative; becomes the commit title."""
    kind: SubtaskKind
    """`code` (coder), `test` (tester) or `format` (formatter)."""
    spec: str = Field(min_length=1)
    """Self-contained instructions a junior developer could follow without asking anything."""
    read_files: list[str] = Field(default_factory=list)
    """Repo-relative files to show the worker for context (not editable)."""
    edit_files: list[str] = Field(min_length=1)
    """Repo-relative files the worker may change or create; nothing else."""
    depends_on: list[str] = Field(default_factory=list)
    """Ids of subtasks that must be finished first."""
    checks: list[str] = Field(default_factory=list)
    """Shell commands run in the repo root that must pass, e.g. `pytest tests/test_x.py -q`."""

    @field_validator("read_files", "edit_files")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        return _safe_paths(paths)

    @field_validator("checks")
    @classmethod
    def _no_blank_checks(cls, checks: list[str]) -> list[str]:
        return [command.strip() for command in checks if command.strip()]

    @property
    def agent(self) -> str:
        """Name of the worker agent for this subtask's kind."""
        return AGENT_FOR_KIND[self.kind]


def check_graph(subtasks: Sequence[Subtask], external: Iterable[str] = ()) -> None:
    """Raise ValueError unless ids are unique, dependencies known and acyclic.

    `external` ids may be depended on without being in `subtasks` (work already finished).
    """
    ids = [subtask.id for subtask in subtasks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"subtask ids must be unique; repeated: {', '.join(duplicates)}")
    known = set(ids) | set(external)
    for subtask in subtasks:
        unknown = [dep for dep in subtask.depends_on if dep not in known]
        if unknown:
            raise ValueError(
                f"subtask {subtask.id!r} depends on unknown id(s) {', '.join(unknown)}; "
                f"known ids: {', '.join(ids)}"
            )
    topological_order(subtasks)


def topological_order(subtasks: Sequence[Subtask]) -> list[Subtask]:
    """Subtasks with every dependency first; ties keep plan order. ValueError on a cycle."""
    inside = {subtask.id for subtask in subtasks}
    placed: set[str] = set()
    order: list[Subtask] = []
    pending = list(subtasks)
    while pending:
        ready = [s for s in pending if all(d in placed or d not in inside for d in s.depends_on)]
        if not ready:
            cycle = ", ".join(s.id for s in pending)
            raise ValueError(f"depends_on has a cycle among: {cycle}; remove one dependency")
        first = ready[0]
        order.append(first)
        placed.add(first.id)
        pending.remove(first)
    return order


class Plan(BaseModel):
    """The planner's answer: an ordered list of subtasks."""

    model_config = ConfigDict(extra="forbid")

    summary: str = ""
    """The approach in two or three sentences, for the reviewer and the log."""
    subtasks: list[Subtask] = Field(min_length=1, max_length=MAX_SUBTASKS)
    """The work, in a sensible order; dependencies are explicit in `depends_on`."""

    @model_validator(mode="after")
    def _graph(self) -> Plan:
        check_graph(self.subtasks)
        return self

    def get(self, subtask_id: str) -> Subtask:
        """The subtask with this id (KeyError if none)."""
        for subtask in self.subtasks:
            if subtask.id == subtask_id:
                return subtask
        raise KeyError(subtask_id)


def plan_as_written(
    title: str,
    instructions: str,
    files: Sequence[str],
    checks: Sequence[str],
    why: str = "no planner was available",
) -> Plan:
    """One `code` subtask carrying the task exactly as the user wrote it.

    What a run does with a task that names its files and checks (a planner would only restate
    it), and falls back to when no planner could produce a valid plan but the task names its
    files: such a task is a plan of one subtask. `why` is said in the plan's summary.
    """
    subtask = Subtask(
        id="task",
        title=title[:120] or "Carry out the task",
        kind="code",
        spec=instructions,
        edit_files=list(files),
        checks=list(checks),
    )
    return Plan(summary=f"The task as written ({why}).", subtasks=[subtask])
