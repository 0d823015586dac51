"""A `--repos` run's record: the plan, the repositories, and the run ids, saved before anything
starts, so `--resume` carries on every repository (each through its own whole-plan resume), and
the lock one process holds while it runs.

The same run ids serve every repository (run ids are per repository), so each task's branch has
one name everywhere: `orchestrate/<run id>`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import PlanDoc
from orchestrate.engine.run_files import fleets_root
from orchestrate.engine.run_lock import Holder, RunLock, holder_of
from orchestrate.engine.run_state import write_atomically
from orchestrate.exceptions import ConfigError
from orchestrate.fleet.repos_file import RepoSpec


class PullLink(BaseModel):
    """A pull request opened for one task's branch."""

    run_id: str
    """The task's run (its branch is `orchestrate/<run id>`)."""
    number: int
    """Pull request number."""
    url: str
    """Where people read it."""


class FleetRepo(BaseModel):
    """One repository of the run and what is known of it so far."""

    spec: RepoSpec
    """As `repos.txt` listed it."""
    pulls: list[PullLink] = []
    """Pull requests opened for its approved branches (`--open-prs`)."""
    plans: dict[str, Plan] = {}
    """Plans made before its runs started (`--cloud-batch` plans every repository at once), by
    run id."""


class FleetRecord(BaseModel):
    """Everything a `--repos` run needs to be carried on by another process."""

    fleet_id: str
    """The id `--resume` takes: its first task's run id."""
    plan_file: str
    """The plan file as given."""
    doc: PlanDoc
    """The plan as read when the run started (a resume never re-reads the file)."""
    run_ids: list[str]
    """One per task, in plan order; the same in every repository."""
    repos: list[FleetRepo]
    """In `repos.txt` order."""
    open_prs: bool = False
    """Push approved branches and open pull requests."""


def _path(fleet_id: str) -> Path:
    return fleets_root() / f"{fleet_id}.json"


def save_fleet(record: FleetRecord) -> None:
    """Write the record atomically where `load_fleet` finds it."""
    write_atomically(_path(record.fleet_id), record.model_dump_json(indent=1))


def load_fleet(fleet_id: str) -> FleetRecord:
    """The record of `--repos` run `fleet_id`; `ConfigError` when there is none."""
    path = _path(fleet_id)
    try:
        return FleetRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no --repos run {fleet_id!r} to resume (looked for {path}); "
            "pass the id the run printed when it started"
        ) from None
    except ValidationError:
        raise ConfigError(
            f"{path} is not a --repos record this orchestrate can read; start the run again"
        ) from None


def fleet_lock(fleet_id: str) -> RunLock:
    """The lock of the process carrying out `--repos` run `fleet_id`."""
    return RunLock(fleets_root() / f"{fleet_id}.lock", f"--repos run {fleet_id}")


def fleet_holder(fleet_id: str) -> Holder | None:
    """The live process carrying out `--repos` run `fleet_id`, or None."""
    return holder_of(fleets_root() / f"{fleet_id}.lock")
