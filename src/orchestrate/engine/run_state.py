"""A run's progress on disk, so a killed `orchestrate run` can be resumed where it stopped.

The state is one JSON file per run (where `run_files` says), rewritten whole (temp file +
`os.replace`) after each step: a reader sees the old state or the new, never half.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import git
from pydantic import BaseModel, Field, ValidationError

from orchestrate.engine.checks import CheckResult
from orchestrate.engine.commands import CommandRecord, Proposer
from orchestrate.engine.commit_checks import checks_of_commit
from orchestrate.engine.plan import Plan, Subtask
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.replan_answer import ReplanRecord
from orchestrate.engine.result import RunResult, SubtaskResult
from orchestrate.engine.review import Review
from orchestrate.engine.workspace import CommitInfo
from orchestrate.exceptions import RepoError


class RunState(BaseModel):
    """Everything a resumed run needs that git does not already hold."""

    run_id: str
    """The run's id."""
    task: TaskSpec
    """The task being carried out."""
    continues: str | None = None
    """The earlier run whose branch this one builds on, if any."""
    start: str | None = None
    """The commit to branch from, when not HEAD (a plan's tasks all start where the first did)."""
    plan: Plan | None = None
    """The plan, once made (a resume never plans again)."""
    batch: list[Subtask] = Field(default_factory=list)
    """The subtasks being worked on: the plan's, then a review round's follow-ups."""
    batch_by: Proposer = "planner"
    """Who wrote the batch's commands (the planner, or a reviewer's follow-ups)."""
    commands: list[CommandRecord] = Field(default_factory=list)
    """Every command of the run so far, with who proposed and who approved it."""
    results: list[SubtaskResult] = Field(default_factory=list)
    """Subtasks finished so far, in the order they finished."""
    replans: list[ReplanRecord] = Field(default_factory=list)
    """The planner's decisions about subtasks every worker model failed, in order."""
    reviews: int = 0
    """Reviews completed."""
    review: Review | None = None
    """The last review."""
    reviewed_by: str = ""
    """Who made the last review: `quick-reviewer <model>`, or `reviewer` and why the quick
    reviewer did not decide (`quick_review`); empty in states saved before it was kept."""
    not_reviewed: str = ""
    """Why no review could be had (no model fit to review was usable); the checks decide."""
    task_checks: list[CheckResult] = Field(default_factory=list)
    """The task checks run before the last review."""
    omissions: list[str] = Field(default_factory=list)
    """What the planner and the reviewer were not shown, `planner: ...` / `reviewer: ...`."""
    result: RunResult | None = None
    """The run's result, once it finished."""

    @property
    def unfinished(self) -> bool:
        """A resume has work to do: the run never finished, or stopped for a reason outside
        the task (a server down) that may be fixed by now."""
        return self.result is None or self.result.resumable

    def replans_of(self, subtask_id: str) -> list[ReplanRecord]:
        """The decisions made about one subtask, oldest first."""
        return [record for record in self.replans if record.subtask_id == subtask_id]

    def replans_counted(self, budget_of: str) -> int:
        """Re-plans counted against one subtask of the plan (its parts' included)."""
        return sum(record.budget_of == budget_of for record in self.replans)

    def subtasks(self) -> dict[str, Subtask]:
        """Every subtask of the current batch by id, the parts of split ones included."""
        found = {subtask.id: subtask for subtask in self.batch}
        for record in self.replans:
            found.update((part.id, part) for part in record.answer.subtasks)
        return found

    def reopen(self) -> None:
        """Carry on a run that stopped for a reason outside the task: its result goes, and so
        do the subtasks that could not reach a model or never started, to be tried again.
        Work done stays done; answers already paid for are replayed, not bought again."""
        self.result = None
        self.results = [r for r in self.results if not _to_retry(r)]


def _to_retry(result: SubtaskResult) -> bool:
    never_started = result.status == "failed" and result.rounds == 0
    return result.failure == "infrastructure" or never_started


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that the file holds the old text or the new, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def save_state(path: Path, state: RunState) -> None:
    """Write `state` atomically: the file holds the old state or the new one, never a mix."""
    write_atomically(path, state.model_dump_json())


def load_state(path: Path) -> RunState:
    """Read a run's state; `RepoError` (one line, actionable) when there is none to resume."""
    try:
        return RunState.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RepoError(
            f"no saved state for run {path.stem!r} in {path.parent}: check the run id"
        ) from None
    except ValidationError as error:
        raise RepoError(
            f"run state {path} is unreadable ({error.error_count()} errors): start a new run"
        ) from None


def reset_worktree(worktree: Path) -> None:
    """Drop a killed process's half-applied edits: the run's worktree only, back to its HEAD."""
    cmd = git.Git(worktree)
    cmd.reset("--hard", "--quiet", "HEAD")
    cmd.clean("-fdq")


def committed_results(state: RunState, commits: list[CommitInfo]) -> list[SubtaskResult]:
    """Subtasks of the batch whose commit landed but whose result was never saved (a kill
    between the two): they are done, and must not be worked on (and committed) again.

    Only this run's commits count: a run that continues an earlier one has that run's commits on
    its branch too, and their subtask ids may well repeat."""
    known = {result.id for result in state.results}
    batch = state.subtasks()
    found: list[SubtaskResult] = []
    for commit in commits:
        sid = commit.trailers.get("Orchestrate-Subtask")
        if commit.trailers.get("Orchestrate-Run") != state.run_id:
            continue
        if sid is None or sid in known or sid not in batch:
            continue
        known.add(sid)
        subtask = batch[sid]
        found.append(
            SubtaskResult(
                id=sid,
                title=subtask.title,
                kind=subtask.kind,
                agent=subtask.agent,
                status="done",
                commit=commit.sha,
                model=commit.trailers.get("Orchestrate-Model"),
                rounds=0,
                detail="committed before the run was interrupted",
                checks=checks_of_commit(commit, subtask.checks),
            )
        )
    return found
