"""A subtask's passed checks, carried by its commit as a trailer.

A process killed between a subtask's commit and the state write that records its result leaves
the commit without the result (`run_state.committed_results` adopts it on resume). Without the
checks it passed, a task with no task-level checks would then be reported unchecked although its
work was verified. The commit is the one record written at that instant, so it says which checks
passed; a resume reads them back for the subtask's own check commands only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from orchestrate.engine.checks import CheckResult
from orchestrate.engine.workspace import CommitInfo

TRAILER = "Orchestrate-Checks-Passed"
"""The trailer: a JSON list of the commands that passed before the commit."""


def checks_trailer(passed: Sequence[CheckResult]) -> dict[str, str]:
    """The trailer for a commit made once `passed` (every one ok) passed; none when no check
    ran, so a resume claims nothing."""
    assert all(check.ok for check in passed), "a commit is made only once its checks pass"
    if not passed:
        return {}
    return {TRAILER: json.dumps([check.command for check in passed])}


def checks_of_commit(commit: CommitInfo, commands: Sequence[str]) -> list[CheckResult]:
    """The subtask's `commands` its commit says passed, as results. Trailer values are kept on
    one line with their spaces folded (`workspace`), so commands are compared folded too."""
    said = commit.trailers.get(TRAILER)
    if said is None:
        return []
    try:
        listed = json.loads(said)
    except json.JSONDecodeError:
        return []  # cut or edited by hand: it vouches for nothing
    if not isinstance(listed, list):
        return []
    passed = {_folded(item) for item in listed if isinstance(item, str)}
    note = f"passed before the run was interrupted (commit {commit.sha[:12]})"
    return [
        CheckResult(command=command, ok=True, exit_code=0, output=note, duration_s=0.0)
        for command in commands
        if _folded(command) in passed
    ]


def _folded(command: str) -> str:
    return " ".join(command.split())
