"""What `orchestrate` exits with, and which errors are the user's input and which are not.

A script can tell "fix the command line, a file or the setup" (2) from "it could not be done
now" (3) and from "it was done, and the answer is no" (1). `--help` and the README list them.
"""

from __future__ import annotations

from enum import IntEnum

from orchestrate.exceptions import (
    ConfigError,
    LedgerMissingError,
    MissingCredentialsError,
    MissingDependencyError,
    NoAttemptsError,
    OrchestrateError,
    PlanError,
    RepoError,
    RunLockedError,
)


class Exit(IntEnum):
    """Exit statuses of every command."""

    OK = 0
    """Done: every task approved (or planned), the config valid, every agent ready."""
    NOT_APPROVED = 1
    """Done, and the answer is no: a task was not approved; `doctor`: an agent has no model."""
    USAGE = 2
    """Bad input: the command line, an agent/plan file, the repository, a key or package."""
    FAILED = 3
    """Could not be done now: no model answered, storage failed, the run is in use, or a bug."""
    DEGRADED = 4
    """`doctor`: every agent has a model, but the planner or reviewer only one unfit for it."""
    INTERRUPTED = 130
    """Ctrl-C (a run keeps what it finished: `--resume` it)."""


HELP = (
    "Exit status: 0 done; 1 done but not approved (doctor: an agent has no working model); "
    "2 bad command line, config, plan, repository, key or package; 3 could not be done now "
    "(no model answered, disk, a run in use, a bug); 4 doctor: planner or reviewer only on a "
    "model unfit for it; 130 interrupted."
)
"""The `--help` epilog, kept beside the codes it describes."""

_USAGE = (
    ConfigError,
    PlanError,
    RepoError,
    MissingCredentialsError,
    MissingDependencyError,
    LedgerMissingError,
    NoAttemptsError,
)


def exit_for(error: OrchestrateError) -> Exit:
    """`USAGE` when the user can fix the input; `FAILED` when the work could not be done."""
    if isinstance(error, RunLockedError):
        return Exit.FAILED  # a RepoError, but the repository is fine: another process has it
    return Exit.USAGE if isinstance(error, _USAGE) else Exit.FAILED
