"""Which runs Past runs lists, under which title, and where each one stands.

A run is listed when there is something to open or resume: saved progress or its branch. Plans
that were never run, dry runs and `doctor`'s probes have neither (only ledger rows), so they stay
out of the list though `orchestrate cost` still counts what they spent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import git

from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_lock import run_is_live
from orchestrate.engine.run_state import RunState, load_state
from orchestrate.exceptions import RepoError
from orchestrate.ledger.store import Ledger, RunSummary

BRANCH_PREFIX = "orchestrate/"
_ID_STAMP = re.compile(r"^(dry-)?\d{8}-\d{6}-\d+-")


@dataclass(frozen=True)
class PastRun:
    """One run as Past runs shows it."""

    summary: RunSummary
    title: str
    """The task's title (from saved progress; else read back from the run id)."""
    standing: str
    """`running` (here), `running elsewhere` (another process), `resumable`, how it ended
    (`approved`, ...), or `` when only its branch is left."""

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.summary.run_id


def title_from_id(run_id: str) -> str:
    """`20261201-101500-1-add-subtraction` → `add subtraction` (ids carry their task's slug)."""
    return _ID_STAMP.sub("", run_id).replace("-", " ")


def _branches(repo: Path) -> set[str]:
    """Run ids that have a branch."""
    try:
        listed = git.Git(repo).for_each_ref(
            "--format=%(refname:short)", f"refs/heads/{BRANCH_PREFIX}"
        )
    except git.GitCommandError as error:
        raise RepoError(f"cannot list the runs' branches: {error.stderr.strip()}") from None
    return {line.removeprefix(BRANCH_PREFIX) for line in listed.splitlines() if line}


def _state(files: RepoFiles, run_id: str) -> RunState | None:
    path = files.run(run_id).state
    if not path.is_file():
        return None
    try:
        return load_state(path)
    except RepoError:
        return None  # unreadable: nothing to resume from, the branch may still be opened


def _standing(repo: Path, state: RunState | None, live: str | None, run_id: str) -> str:
    if run_id == live:
        return "running"
    if state is None:
        return ""
    if state.unfinished or state.result is None:
        # Another process (an `orchestrate run`, another TUI) may be carrying it out now.
        return "running elsewhere" if run_is_live(repo, run_id) else "resumable"
    return state.result.status.replace("_", " ")


def past_runs(repo: Path, ledger: Ledger, live: str | None = None) -> list[PastRun]:
    """The runs worth listing, newest first (blocking: reads git and small files)."""
    files = RepoFiles.of(repo)
    summaries = {summary.run_id: summary for summary in ledger.runs()}
    for saved in files.saved_runs():
        # A run killed before its first call has saved progress but no ledger rows.
        if saved.run_id not in summaries:
            at = saved.state.stat().st_mtime
            summaries[saved.run_id] = RunSummary(
                run_id=saved.run_id,
                first_at=at,
                last_at=at,
                attempts=0,
                cloud_usd=0,
                local_tokens=0,
            )
    branches = _branches(repo)
    listed: list[PastRun] = []
    for run_id, summary in summaries.items():
        state = _state(files, run_id)
        if state is None and run_id not in branches and run_id != live:
            continue
        title = state.task.title if state is not None else title_from_id(run_id)
        listed.append(PastRun(summary, title, _standing(repo, state, live, run_id)))
    return sorted(listed, key=lambda run: run.summary.first_at, reverse=True)
