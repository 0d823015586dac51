"""Who owns each command a run executes, who approved it, and how often it ran.

A check command is the user's (a `check:` line of plan.md), the repository's (a test or lint
command its AGENTS.md names: the user's once they trusted the repository, else treated like a
model's) or a model's (the planner's, or a reviewer's follow-up). A model's command runs only
once something the user controls said yes: the engine asks its `CommandApproval` hook (the
batch CLI answers from `--trust-model-checks` and the user's `checks.allow` list; the TUI shows
each command whole and asks), remembers the answer in the run's state, and `CommandBook.run` is
the one way a run executes a command at all.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Literal

from pydantic import BaseModel

from orchestrate.engine.checks import CheckResult, run_checks
from orchestrate.engine.plan import Subtask
from orchestrate.events import Event, RunNotice
from orchestrate.sandbox.environments import CheckEnvironment

Proposer = Literal["user", "repo", "planner", "reviewer"]
TRUST_FLAG = "--trust-model-checks"
# A command with any of these is more than one simple command (or reads and writes files, or
# substitutes): an allow-list entry never stretches to cover it.
_SHELL_SYNTAX = frozenset(";&|$`<>()\n\r\\")


class CommandRecord(BaseModel):
    """One command of a run: whose it is, whether it may run, and what became of it."""

    command: str
    """The shell command, exactly as it runs."""
    proposed_by: Proposer
    """`user` (plan.md), `repo` (its instructions files), or the model role that wrote it."""
    where: str
    """Where it was asked for: `plan.md`, `subtask add-parser`, ..."""
    approved_by: str | None = None
    """Who said it may run (`plan.md`, `--trust-model-checks`, `checks.allow: ...`, `you`);
    None when it may not."""
    refusal: str = ""
    """Why it may not run, when it may not."""
    runs: int = 0
    """Times it ran."""
    failures: int = 0
    """Times it ran and failed."""


class Decision(BaseModel):
    """An answer about one proposed command."""

    approved_by: str | None
    """Who approved it; None to refuse it."""
    refusal: str = ""
    """Why not, in a few words the user can act on."""


CommandApproval = Callable[[str, Sequence[CommandRecord]], Awaitable[Sequence[Decision]]]
"""Asked (run id, the model's commands not yet decided) before any of them runs."""


def allowed_by(command: str, allow: Iterable[str]) -> str | None:
    """The allow-list entry covering `command`, or None.

    A command is covered when it is one simple command (no shell syntax that chains, pipes,
    redirects or substitutes) whose words begin with the entry's words.
    """
    if _SHELL_SYNTAX & set(command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for entry in allow:
        try:
            prefix = shlex.split(entry)
        except ValueError:
            continue
        if prefix and words[: len(prefix)] == prefix:
            return entry
    return None


class BatchPolicy:
    """The batch CLI's answer: yes with `--trust-model-checks` or an allow-list entry, else no."""

    def __init__(self, allow: Sequence[str], trust_model_checks: bool = False) -> None:
        self.allow = tuple(allow)
        self.trust = trust_model_checks

    def decide(self, command: str) -> Decision:
        """The decision on one command a model proposed."""
        if self.trust:
            return Decision(approved_by=TRUST_FLAG)
        entry = allowed_by(command, self.allow)
        if entry is not None:
            return Decision(approved_by=f"checks.allow: {entry}")
        return Decision(
            approved_by=None,
            refusal=f"written by a model: pass {TRUST_FLAG} or add it to checks.allow",
        )

    async def __call__(self, run_id: str, proposals: Sequence[CommandRecord]) -> list[Decision]:
        return [self.decide(record.command) for record in proposals]


async def refuse_all(run_id: str, proposals: Sequence[CommandRecord]) -> list[Decision]:
    """The engine's default when nobody was given to ask: a model's command never runs unasked."""
    return [Decision(approved_by=None, refusal="nobody was asked to approve it")] * len(proposals)


class CommandBook:
    """A run's commands (kept in its saved state) and the one way it runs any of them."""

    def __init__(
        self,
        records: list[CommandRecord],
        user_commands: Sequence[str],
        approve: CommandApproval,
        run_id: str,
        emit: Callable[[Event], None],
    ) -> None:
        self.records = records
        """The run state's own list: changes here are saved with it."""
        self.user = tuple(user_commands)
        self.approve, self.run_id, self.emit = approve, run_id, emit
        for command in self.user:
            self._record(command, "user", "plan.md")

    def _find(self, command: str) -> CommandRecord | None:
        return next((r for r in self.records if r.command == command), None)

    def _record(self, command: str, proposer: Proposer, where: str) -> CommandRecord:
        found = self._find(command)
        if found is None:
            approved = "plan.md" if proposer == "user" else None
            found = CommandRecord(
                command=command, proposed_by=proposer, where=where, approved_by=approved
            )
            self.records.append(found)
        return found

    async def settle(self, subtasks: Sequence[Subtask], proposer: Proposer) -> list[Subtask]:
        """Ask about every command of `subtasks` not yet decided; the subtasks keep only the
        commands that may run (the others are said, and listed in the report)."""
        fresh: list[CommandRecord] = []
        for subtask in subtasks:
            for command in subtask.checks:
                known = self._find(command)
                if known is None:
                    owner: Proposer = "user" if command in self.user else proposer
                    known = self._record(command, owner, f"subtask {subtask.id}")
                    fresh.append(known)
        asking = [record for record in fresh if record.approved_by is None]
        if asking:
            await self._ask(asking)
        return [
            subtask.model_copy(update={"checks": [c for c in subtask.checks if self.may_run(c)]})
            for subtask in subtasks
        ]

    async def offer(self, named: Sequence[tuple[str, str]], *, trusted: bool) -> None:
        """Offer the commands the repository's instructions files name (with the file naming
        each) as the task's checks: the user's own in a repository they trusted, otherwise
        asked about like a model's."""
        fresh: list[CommandRecord] = []
        for command, where in named:
            if self._find(command) is None:
                record = self._record(command, "repo", where)
                if trusted:
                    record.approved_by = f"{where} (a repository you trusted)"
                fresh.append(record)
        asking = [record for record in fresh if record.approved_by is None]
        if asking:
            await self._ask(asking)

    def task_checks(self) -> list[str]:
        """The task's checks: plan.md's, then those the repository named that may run."""
        named = [
            r.command for r in self.records if r.proposed_by == "repo" and self.may_run(r.command)
        ]
        return [*self.user, *(command for command in named if command not in self.user)]

    async def _ask(self, asking: list[CommandRecord]) -> None:
        """Ask the approval hook about `asking`; each refusal is said."""
        decisions = await self.approve(self.run_id, asking)
        for record, decision in zip(asking, decisions, strict=True):
            record.approved_by, record.refusal = decision.approved_by, decision.refusal
            if decision.approved_by is None:
                self.emit(
                    RunNotice(
                        run_id=self.run_id,
                        text=f"not running `{record.command}` (proposed by "
                        f"{record.proposed_by}): {decision.refusal}",
                    )
                )

    def may_run(self, command: str) -> bool:
        """Whether `command` was approved in this run."""
        record = self._find(command)
        return record is not None and record.approved_by is not None

    async def run(
        self,
        commands: Sequence[str],
        environment: CheckEnvironment,
        timeout: float,  # noqa: ASYNC109
    ) -> list[CheckResult]:
        """Run the approved ones of `commands` in order (stopping at the first failure), and
        count each run; a command never approved is never run, whoever asks."""
        allowed = [command for command in commands if self.may_run(command)]
        results = await run_checks(allowed, environment, timeout)
        for result in results:
            record = self._find(result.command)
            assert record is not None  # may_run found it
            record.runs += 1
            record.failures += 0 if result.ok else 1
        return results
