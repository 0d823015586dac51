"""A plan's tasks and the run id of each, saved before the first task starts.

`orchestrate run --resume ID` of any of those runs reads it back and carries on the whole plan:
finished tasks are reported as they ended, the one that was killed is resumed, and the ones
never started are started, from the commit the first one branched from.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_lock import Holder, RunLock, holder_of
from orchestrate.engine.run_state import write_atomically


class BatchTask(BaseModel):
    """One task of the plan and the run that carries it out."""

    run_id: str
    """The run's id (fixed when the plan starts, so a resume knows it before the run exists)."""
    task: TaskSpec
    """The task, with the plan's introduction already added."""
    plan: Plan | None = None
    """The plan to carry out as it is (from a dry run's saved plans); None: the planner plans."""
    skip: str = ""
    """Why the task is not to be run at all (its dry run made no plan), when it is not."""


class BatchRecord(BaseModel):
    """Every task of one `orchestrate run plan.md`."""

    batch_id: str
    """The id of its first run."""
    plan_file: str
    """The plan file as given."""
    start: str
    """The commit every task's branch starts from."""
    tasks: list[BatchTask]
    """In plan order."""


def _folder(repo: Path) -> Path:
    return RepoFiles.of(repo).batches


def save_batch(repo: Path, record: BatchRecord) -> None:
    """Write the record (atomically) where `find_batch` looks."""
    write_atomically(_folder(repo) / f"{record.batch_id}.json", record.model_dump_json())


def find_batch(repo: Path, run_id: str) -> BatchRecord | None:
    """The plan run `run_id` belongs to; None for a run made alone (the TUI's, an older one)."""
    folder = _folder(repo)
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json"), reverse=True):
        try:
            record = BatchRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError:
            continue  # not one this orchestrate wrote: its runs still resume one by one
        if any(item.run_id == run_id for item in record.tasks):
            return record
    return None


def _lock_path(repo: Path, batch_id: str) -> Path:
    return _folder(repo) / f"{batch_id}.lock"


def batch_lock(repo: Path, record: BatchRecord) -> RunLock:
    """The lock the process carrying out the plan holds, so no second one runs it at once."""
    return RunLock(_lock_path(repo, record.batch_id), f"plan {record.plan_file}")


def batch_holder(repo: Path, record: BatchRecord) -> Holder | None:
    """The live process carrying out the plan, or None."""
    return holder_of(_lock_path(repo, record.batch_id))
