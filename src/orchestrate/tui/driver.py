"""The TUI's git and saved-state plumbing; runs themselves are built by `Session`, as for
`orchestrate run`. The screens hold no logic.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import git

from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.result import RunResult
from orchestrate.engine.review import Review
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_lock import run_is_live
from orchestrate.engine.run_state import RunState, load_state
from orchestrate.engine.session import Session, new_run_id
from orchestrate.engine.workspace import Workspace
from orchestrate.exceptions import RepoError
from orchestrate.tui.past_runs import PastRun, past_runs

RunIds = Callable[[TaskSpec], str]
"""Gives the id of the next run for a task."""


def with_remark(task: TaskSpec, plan: Plan | None, remark: str) -> TaskSpec:
    """The task with the user's remark about the last plan (or run) added to its instructions."""
    earlier = ""
    if plan is not None:
        steps = "; ".join(f"{s.id}: {s.title}" for s in plan.subtasks)
        earlier = f"\nThe earlier plan was: {steps}"
    instructions = f"{task.instructions}\n\nThe user's remark on the earlier attempt:\n{remark}"
    return task.model_copy(update={"instructions": instructions + earlier})


_GIT_NOISE = ("Aborting", "Merge with strategy")


def merge_failure(stderr: str) -> str:
    """Why git refused a merge, in one line: its own words and the files they name."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    cause = [line.removeprefix("stderr: ").strip("'") for line in lines]
    said = " ".join(line for line in cause if line and not line.startswith(_GIT_NOISE))
    return said or "git refused"


class Driver:
    """Run ids, saved progress, diffs, accepting and past runs, for the app."""

    def __init__(self, session: Session, run_ids: RunIds | None = None) -> None:
        self.session = session
        counter = itertools.count(1)
        self._run_ids = run_ids or (lambda task: new_run_id(task.title, next(counter)))

    def next_run_id(self, task: TaskSpec) -> str:
        """A fresh run id for `task`."""
        return self._run_ids(task)

    def state(self, run_id: str) -> RunState:
        """The run's saved progress; `RepoError` when there is none (blocking: small file)."""
        return load_state(RepoFiles.of(self.session.repo).run(run_id).state)

    def outcome(
        self, run_id: str, result: RunResult | None = None
    ) -> tuple[Review | None, str, str | None]:
        """The run's last review, how it ended in words, and its status (None: unfinished);
        from `result` (finished in this session), else from its saved state."""
        if result is None:
            try:
                state = self.state(run_id)
            except RepoError:
                return None, "past run", "past"
            result = state.result
            if result is None:
                return state.review, "unfinished: resume it from Past runs", None
        return result.review, f"{result.status.replace('_', ' ')}: {result.detail}", result.status

    def resumable(self, run_ids: list[str]) -> set[str]:
        """Those of `run_ids` a resume has work for (never finished, or stopped by a cause
        outside the task, a server down) and no process is working on."""
        files = RepoFiles.of(self.session.repo)
        found: set[str] = set()
        for run_id in run_ids:
            path = files.run(run_id).state
            if not path.exists():
                continue
            try:
                if load_state(path).unfinished and not run_is_live(self.session.repo, run_id):
                    found.add(run_id)
            except RepoError:
                continue  # unreadable state: nothing to resume from
        return found

    def diff(self, run_id: str) -> str:
        """The run's branch against its base (blocking: call it from a thread)."""
        return Workspace.open(self.session.repo, run_id).diff()

    def accept(self, run_id: str, merge: bool) -> str:
        """Drop the run's worktree, keep its branch, and merge it if asked; says what was done."""
        workspace = Workspace.open(self.session.repo, run_id)
        workspace.remove(keep_branch=True)
        if not merge:
            return f"kept branch {workspace.branch}"
        repo = git.Git(self.session.repo)
        try:
            repo.merge("--no-ff", "--no-edit", workspace.branch)
        except git.GitCommandError as error:
            repo.merge("--abort", with_exceptions=False)
            raise RepoError(
                f"could not merge {workspace.branch}: {merge_failure(str(error.stderr))}; "
                f"the branch is kept: merge it by hand with `git merge {workspace.branch}`"
            ) from None
        return f"merged {workspace.branch}"

    def runs(self, live: str | None = None) -> list[PastRun]:
        """Past runs worth listing, newest first; `live` is the run an engine is on now."""
        return past_runs(self.session.repo, self.session.ledger, live)
