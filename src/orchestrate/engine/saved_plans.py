"""The plans a dry run made, saved so `orchestrate run --plan FILE` carries out exactly them.

The file holds each task as it was planned and the plan itself, commands and all: what the user
read in the dry run's report is what runs, with no planner asked again. Commands a model wrote
still need `--trust-model-checks` or an allow-list entry to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.run_state import write_atomically
from orchestrate.exceptions import PlanError


class PlannedTask(BaseModel):
    """One task of the dry run and its plan."""

    task: TaskSpec
    """The task as planned (the plan's introduction already added)."""
    plan: Plan | None
    """The plan; None when planning failed (such a task is not run)."""


class SavedPlans(BaseModel):
    """Every task of one dry run."""

    version: Literal[1] = 1
    plan_file: str
    """The plan.md the dry run read."""
    tasks: list[PlannedTask]
    """In plan order."""


def save_plans(path: Path, plans: SavedPlans) -> None:
    """Write `plans` to `path` (atomically), readable by people as well as by `load_plans`."""
    try:
        write_atomically(path, plans.model_dump_json(indent=2) + "\n")
    except OSError as error:
        raise PlanError(
            f"--plan: cannot write {path} ({error.strerror}): pick another path"
        ) from None


def load_plans(path: Path) -> SavedPlans:
    """Read a file `save_plans` wrote; one line naming the file and the fix when it cannot."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(
            f"{path}: file not found (write one with `--dry-run --plan {path}`)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlanError(f"{path}: cannot read it ({error}): check the path") from None
    try:
        return SavedPlans.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise PlanError(
            f"{path}: not a plan file a dry run wrote ({where}: {first['msg']}); "
            "make a new one with `orchestrate run plan.md --dry-run --plan FILE`"
        ) from None
