"""One subtask: ask → apply → check → commit, with feedback rounds and escalation.

Each model gets up to `max_fix_rounds` replies; a malformed reply, a refused edit, a SEARCH block
that does not match, a file that no longer parses or a failing check goes back to it with the
reason. Then the subtask escalates along the agent's chain walk (`routing/chain.py`), from the
subtask's original files. Each round's request is shaped for the model that will get it
(`worker_prompt`).

Apply and check happen in the subtask's lane (`engine/lanes.py`): a worktree of its own, so
subtasks' checks run at once and none sees another's half-finished edit. An edit that passes is
joined onto the run's branch in plan order (`engine/joining.py`); one that fails is undone.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from orchestrate.config.schema import AgentConfig, EditFormat, OrchestrateConfig
from orchestrate.engine.checks import CheckResult
from orchestrate.engine.commands import CommandBook
from orchestrate.engine.commit_checks import checks_trailer
from orchestrate.engine.edits import FormatStats, apply_edits_async, mismatch_feedback, parse_edits
from orchestrate.engine.edits.model import Edit
from orchestrate.engine.edits.paths import resolve_edit_path
from orchestrate.engine.joining import Joiner, Snapshot, read_files, write_files
from orchestrate.engine.lanes import Lane
from orchestrate.engine.plan import Subtask
from orchestrate.engine.prompts import check_feedback, refused_feedback, syntax_feedback
from orchestrate.engine.result import Attempt, FailureSide, SubtaskResult
from orchestrate.engine.sensitive_changes import (
    ALLOW_FLAG,
    ChangeApproval,
    refuse_changes,
    sensitive_changes,
)
from orchestrate.engine.syntax import SYNTAX_CHECK, broken_files
from orchestrate.engine.worker_prompt import WorkerPrompt, shape_worker
from orchestrate.engine.workspace import Workspace
from orchestrate.events import (
    CheckFailed,
    ContentOmitted,
    EditApplied,
    EditRefused,
    Escalated,
    Event,
    EventBus,
    SubtaskFinished,
    SubtaskStarted,
    SubtaskStatus,
)
from orchestrate.exceptions import (
    BudgetExceededError,
    EditRefusedError,
    ModelRequestError,
    NoModelAvailableError,
    PrivacyBlockedError,
    PromptTooLargeError,
    SensitiveChangeError,
)
from orchestrate.models.base import ModelRequest
from orchestrate.repo_rules.rules import RepoRules
from orchestrate.routing.chain import Target
from orchestrate.routing.routed import Routed
from orchestrate.routing.router import Router
from orchestrate.sandbox.environments import CheckEnvironment

NEAR_GREEDY = 0.2
"""Temperatures up to this pick (nearly) the most likely tokens: the same request, the same reply."""
Previous = tuple[str, str] | None
"""The last round's reply and the feedback on it, if there was a round."""

INFRASTRUCTURE_ERRORS = (
    NoModelAvailableError,
    ModelRequestError,
    PrivacyBlockedError,
    BudgetExceededError,
)
Status = Literal["queued", "running", "checking", "escalated", "done", "failed"]


@dataclass
class RunContext:
    """What every worker of one run shares."""

    config: OrchestrateConfig
    router: Router
    workspace: Workspace
    environment: CheckEnvironment
    """Where this run's checks run (sandboxed where possible, always with a minimal env)."""
    commands: CommandBook
    """The one way a check runs: approved commands only, each run counted."""
    events: EventBus
    run_id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """The run's worktree: joins onto its branch and the task checks take it."""
    stats: FormatStats = field(default_factory=FormatStats)
    max_fix_rounds: int = 3
    check_timeout: float = 300.0
    private: bool = False
    approve_changes: ChangeApproval = refuse_changes
    """Asked before an edit adding a workflow, a hook or one of our keys is committed."""
    rules: RepoRules = field(default_factory=RepoRules)
    """The repository's instructions files, read at the run's start."""

    def emit(self, event: Event) -> None:
        self.events.emit(event)


def _refused_path(root: Path, edits: Sequence[Edit], allowed: list[str]) -> str:
    """The path of the first edit that path safety refuses (apply_edits does not say which)."""
    for edit in edits:
        try:
            resolve_edit_path(root, edit.path, allowed)
        except EditRefusedError:
            return edit.path
    return edits[0].path if edits else ""


def _text(state: Snapshot) -> dict[str, str | None]:
    return {p: None if b is None else b.decode("utf-8", "replace") for p, b in state.items()}


class Worker:
    """Carries out one subtask with one agent."""

    def __init__(
        self,
        ctx: RunContext,
        agent: AgentConfig,
        subtask: Subtask,
        *,
        lane: Lane | None = None,
        joiner: Joiner | None = None,
        hand_back: bool = False,
    ) -> None:
        """`lane`: where to work and check (default: the run's own worktree); `joiner`: what
        takes passing work onto the run's branch (default: at once, in the run's worktree);
        `hand_back`: a failure of the task itself goes back to the planner (`replanning`),
        which ends the subtask, so the worker says so instead of announcing it failed."""
        self.ctx, self.agent, self.subtask = ctx, agent, subtask
        self.hand_back = hand_back
        self.lane = lane or Lane(ctx.workspace.path, ctx.environment)
        self.root = self.lane.path
        self.joiner = joiner or Joiner(ctx.workspace, ctx.lock, ())
        self.chain = ctx.router.chain(
            agent,
            private=ctx.private,
            files=[*subtask.edit_files, *subtask.read_files],
        )
        """Who answers: the chain walk moves past unreachable models and past rejected ones."""
        self.rounds = 0
        self.model: str | None = None
        self.escalations: list[str] = []
        self.checks: list[CheckResult] = []
        self.original: Snapshot = {}
        self.files: Snapshot = {}
        self.problem = ""
        self.attempts: list[Attempt] = []
        """Every reply that failed, with what its model was told (the planner reads them)."""
        self.omissions: list[str] = []
        """What the models were not shown, each said once (an event and a report line)."""
        self.flagged: list[str] = []
        """Changes that needed the user's yes, and whether they got it."""
        self._prompts: dict[str, WorkerPrompt] = {}
        """This round's request for each model the chain walk considered."""
        self._targets: dict[str, Target] = {}
        """What each model's requests were shaped for (its room, whether it follows turns)."""

    async def run(self) -> SubtaskResult:
        """Do the subtask; never raises for task or model failures, only reports them."""
        self._emit(SubtaskStarted, agent=self.agent.name)
        self._status("running")
        try:
            self.original = await asyncio.to_thread(read_files, self.root, self.subtask.edit_files)
            while True:
                self.files = dict(self.original)
                commit = await self._rounds()
                if commit is not None:
                    return self._finish("done", commit[0] or None, commit[1])
                moved = self.chain.reject()
                if moved is None:
                    tried = ", ".join(self.chain.tried())
                    detail = f"no model got it right ({tried}); last problem: {self.problem}"
                    return self._finish("failed", None, detail)
                self._escalate(*moved)
        except (EditRefusedError, PromptTooLargeError, SensitiveChangeError) as error:
            # The subtask cannot be done as specified (not a model or network problem).
            return self._finish("failed", None, str(error))
        except INFRASTRUCTURE_ERRORS as error:
            return self._finish("failed", None, str(error), failure="infrastructure")

    async def _rounds(self) -> tuple[str, str] | None:
        """Rounds with the chain's current model: (sha or "", detail) on success, else None.

        The chain may move past a model that cannot be reached; the rounds carry on with the
        next one, which sees the same feedback.
        """
        previous: tuple[str, str] | None = None
        for _ in range(self.ctx.max_fix_rounds):
            read = _text(await asyncio.to_thread(read_files, self.root, self.subtask.read_files))
            shape = functools.partial(self._shape, (_text(self.files), read), previous)
            routed: Routed[BaseModel] = await self.chain.complete(shape)
            self.rounds += 1
            self.model = routed.model_ref
            prompt = self._prompts[routed.model_ref]
            self._said_omitted(prompt.omitted)
            reply = routed.response.text
            outcome = await self._step(reply, prompt.fmt)
            if isinstance(outcome, tuple):
                return outcome
            previous = (reply, outcome)
            self.problem = outcome.splitlines()[0]
            self.attempts.append(Attempt(routed.model_ref, outcome))
            # The reference files are never edited: this round's reading of them still holds.
            if self._would_repeat(routed.model_ref, prompt, (_text(self.files), read), previous):
                break
        return None

    def _would_repeat(
        self,
        ref: str,
        sent: WorkerPrompt,
        shown: tuple[dict[str, str | None], dict[str, str | None]],
        previous: Previous,
    ) -> bool:
        """Whether the next round would send `ref` the very request it just answered, at a
        temperature where it answers the same: a model that continues a document is not shown
        its reply or the feedback (`document_prompt`), so when its edit changed nothing it
        would be asked, and pay, for the same reply again. It is passed over instead."""
        temperature = self.agent.temperature
        target = self._targets.get(ref)
        if target is None or temperature is None or temperature > NEAR_GREEDY:
            return False
        again = self._shape(shown, previous, target)
        if isinstance(again, str):
            return False
        # The conversation id is put on after shaping: it is not part of what is asked.
        if again.model_copy(update={"conversation": sent.request.conversation}) != sent.request:
            return False
        self._status("running", f"{ref} is not asked again: it would get the same request")
        return True

    def _shape(
        self,
        shown: tuple[dict[str, str | None], dict[str, str | None]],
        previous: tuple[str, str] | None,
        target: Target,
    ) -> ModelRequest | str:
        """This round's request for one model: an edit format its output can hold, and what
        fits its window (see `worker_prompt`); or why it cannot be asked."""
        stats, wanted = self.ctx.stats, self.agent.edit_format
        fmt = wanted if target.ref is None else stats.effective_format(wanted, target.ref)
        blocks_ok = target.ref is None or not stats.botches_blocks(target.ref)
        view = (shown[0], shown[1], previous)
        rules = self.ctx.rules.for_files([*self.subtask.edit_files, *self.subtask.read_files])
        shaped = shape_worker(
            self.agent, self.subtask, view, target, fmt, blocks_ok=blocks_ok, rules=rules
        )
        if isinstance(shaped, str):
            return shaped
        if target.ref is not None:
            self._prompts[target.ref] = shaped
            self._targets[target.ref] = target
        # Its rounds are one conversation: a pooled endpoint keeps them on one host.
        conversation = f"{self.ctx.run_id}/{self.subtask.id}"
        return shaped.request.model_copy(update={"conversation": conversation})

    def _said_omitted(self, notes: Sequence[str]) -> None:
        for note in notes:
            if note not in self.omissions:
                self.omissions.append(note)
                self._emit(ContentOmitted, agent=self.agent.name, what=note)

    async def _step(self, reply: str, fmt: EditFormat) -> tuple[str, str] | str:
        """Apply one reply: (sha or "", detail) when it passed, else feedback for the model."""
        parsed = parse_edits(reply, fmt, self.subtask.edit_files)
        assert self.model is not None
        self.ctx.stats.record(self.model, fmt, parsed.well_formed)
        if not parsed.well_formed:
            return parsed.error or "Your reply held no edits. Send the edit."
        try:
            return await self._apply_check_commit(parsed.edits)
        finally:
            await asyncio.to_thread(write_files, self.root, self.original)

    async def _apply_check_commit(self, edits: Sequence[Edit]) -> tuple[str, str] | str:
        allowed = self.subtask.edit_files
        await asyncio.to_thread(write_files, self.root, self.files)
        try:
            applied = await apply_edits_async(self.root, edits, allowed)
        except EditRefusedError as error:
            path = _refused_path(self.root, edits, allowed)
            self._emit(EditRefused, path=path, reason=str(error))
            return refused_feedback(str(error))
        self.files = await asyncio.to_thread(read_files, self.root, self.subtask.edit_files)
        for path in applied.changed:
            self._emit(EditApplied, path=path)
        if not applied.ok:
            return mismatch_feedback(applied)
        self._status("checking")
        broken = await asyncio.to_thread(broken_files, _text(self.original), _text(self.files))
        for problem in broken:
            self._emit(CheckFailed, command=SYNTAX_CHECK, output=problem)
        if broken:
            self._status("running", broken[0])
            return syntax_feedback(broken)
        self.checks = await self.ctx.commands.run(
            self.subtask.checks, self.lane.environment, self.ctx.check_timeout
        )
        failed = [result for result in self.checks if not result.ok]
        for result in failed:
            self._emit(CheckFailed, command=result.command, output=result.output)
        if failed:
            self._status("running", f"check failed: {failed[0].command}")
            return check_feedback(self.checks)
        await self._vouch()
        sha = await self.joiner.join(self.subtask.id, self.files, self._message())
        # Committed: the files now match the branch, so the restore in `_step` must keep them.
        self.original = dict(self.files)
        said = "checks passed" if self.checks else "no checks ran"
        return (sha or "", said if sha else f"{said}; nothing to change")

    async def _vouch(self) -> None:
        """Flag what the edit changes that runs later or holds our keys, and raise unless the
        user said yes (the worktree is restored: nothing is committed)."""
        changes = sensitive_changes(_text(self.original), _text(self.files))
        if not changes:
            return
        approved_by = await self.ctx.approve_changes(self.ctx.run_id, changes)
        said = f"committed (yes from {approved_by})" if approved_by else "NOT committed"
        self.flagged += [f"{change}: {said}" for change in changes]
        if approved_by is None:
            raise SensitiveChangeError(
                f"not committed: {'; '.join(changes)}; such a change needs your yes "
                f"(pass {ALLOW_FLAG}, or approve it in the app)"
            )

    def _message(self) -> tuple[str, str, dict[str, str]]:
        """The commit's title, body and trailers."""
        assert self.model is not None
        trailers = {
            "Orchestrate-Run": self.ctx.run_id,
            "Orchestrate-Subtask": self.subtask.id,
            "Orchestrate-Agent": self.agent.name,
            "Orchestrate-Model": self.model,
            **checks_trailer(self.checks),
        }
        return self.subtask.title, self.subtask.spec[:2000], trailers

    def _escalate(self, source: str, target: str) -> None:
        self.escalations.append(f"{source} -> {target}")
        self._emit(Escalated, from_model=source, to_model=target)
        self._status("escalated", f"{source} -> {target}")

    def _emit(self, kind: Callable[..., Event], **fields: object) -> None:
        self.ctx.emit(kind(run_id=self.ctx.run_id, subtask_id=self.subtask.id, **fields))

    def _status(self, status: Status, detail: str = "") -> None:
        self._emit(SubtaskStatus, status=status, detail=detail, model=self.model or "")

    def _finish(
        self,
        status: Literal["done", "failed"],
        commit: str | None,
        detail: str,
        failure: FailureSide = "task",
    ) -> SubtaskResult:
        ok = status == "done"
        if not ok and failure == "task" and self.hand_back:
            self._status("escalated", f"{detail}; the planner is asked to re-plan it")
        else:
            self._status(status, detail)
            self._emit(SubtaskFinished, ok=ok, commit=commit, detail=detail)
        return SubtaskResult(
            id=self.subtask.id,
            title=self.subtask.title,
            kind=self.subtask.kind,
            agent=self.agent.name,
            status=status,
            commit=commit,
            model=self.model,
            rounds=self.rounds,
            escalations=self.escalations,
            detail=detail,
            failure=None if ok else failure,
            checks=self.checks,
            omissions=self.omissions,
            flagged=self.flagged,
        )
