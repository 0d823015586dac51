"""A subtask carried to its end: its worker, then the planner, while re-plans are left.

When every model of a subtask's worker chain failed it (the task's fault, not an unreachable
server), the planner decides what follows (`replan`): the subtask runs again with a rewritten
spec or on a stronger model, its parts run in its place, or it ends with the planner's reason.
Re-plans are bounded per subtask of the plan (a split's parts share the re-plans of the subtask
they replace). Each decision is saved in the run's state before it is acted on, so a resumed run
acts on it again instead of asking (and paying) again; the decision is an event the UIs show,
its call a ledger row under `replanner`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from orchestrate.config.schema import AgentConfig
from orchestrate.engine.plan import Subtask
from orchestrate.engine.replan import REPLANNER, ReplanCase, ReplanRules, ask_planner
from orchestrate.engine.replan_answer import ReplanRecord
from orchestrate.engine.result import FailureSide, SubtaskResult
from orchestrate.engine.run_state import RunState
from orchestrate.engine.scheduler import Skip, run_batch
from orchestrate.engine.worker import INFRASTRUCTURE_ERRORS, RunContext, Worker
from orchestrate.events import ContentOmitted, SubtaskFinished, SubtaskReplanned, SubtaskStatus
from orchestrate.exceptions import (
    BudgetExceededError,
    NoModelAvailableError,
    OutputValidationError,
    PlanError,
    PromptTooLargeError,
)

REPLAN_ERRORS = (*INFRASTRUCTURE_ERRORS, OutputValidationError, PlanError)
"""Why the planner may give no decision; the subtask then ends as its worker left it."""


@dataclass
class _Form:
    """What a subtask is carried out as now, after the decisions made about it so far."""

    subtask: Subtask
    agent: AgentConfig
    said: list[str]
    """The decisions, one line each (the report's)."""
    rounds: int = 0
    """Worker replies used by earlier tries."""
    escalations: tuple[str, ...] = ()
    """Model moves of earlier tries."""

    def apply(self, record: ReplanRecord) -> None:
        answer = record.answer
        if answer.decision == "rewrite":
            self.subtask = self.subtask.model_copy(update={"spec": answer.spec})
        elif answer.decision == "stronger":
            self.agent = self.agent.model_copy(update={"model": answer.model, "fallbacks": []})
        self.said.append(record.line())

    def tried(self, result: SubtaskResult) -> None:
        self.rounds += result.rounds
        self.escalations += tuple(result.escalations)

    def result(self, result: SubtaskResult) -> SubtaskResult:
        """`result` with what earlier tries used and the decisions made."""
        return result.model_copy(
            update={
                "rounds": self.rounds + result.rounds,
                "escalations": [*self.escalations, *result.escalations],
                "replans": list(self.said),
            }
        )


class Attempt(Protocol):
    """One worker's try at a subtask: the worker (its attempts' errors) and its result."""

    async def __call__(
        self, agent: AgentConfig, subtask: Subtask, *, hand_back: bool
    ) -> tuple[Worker, SubtaskResult]: ...


@dataclass(frozen=True)
class _Batch:
    """How the batch being carried out tries a subtask and skips one."""

    attempt: Attempt
    skip: Skip


class Replanning:
    """Carries out a run's subtasks, asking the planner about those every worker model failed."""

    def __init__(
        self,
        ctx: RunContext,
        state: RunState,
        *,
        planner: AgentConfig,
        max_replans: int,
        keep: Callable[[SubtaskResult], SubtaskResult],
        save: Callable[[], None],
    ) -> None:
        self.ctx, self.state, self.planner = ctx, state, planner
        self.max_replans = max_replans
        self.keep = keep
        """Records a finished subtask in the run's state (and saves it)."""
        self.save = save

    async def run(self, subtask: Subtask, attempt: Attempt, skip: Skip) -> SubtaskResult:
        """Carry out a subtask of the batch to its end (never raises for task failures):
        `attempt` is one worker's try (in its batch's lane), `skip` ends a part whose
        dependency failed."""
        return await self._carry_out(subtask, subtask.id, _Batch(attempt, skip))

    async def _carry_out(self, subtask: Subtask, budget_of: str, batch: _Batch) -> SubtaskResult:
        form = _Form(subtask, self.ctx.config.agents[subtask.agent], [])
        decided = self.state.replans_of(subtask.id)
        for record in decided:  # a resume: act on what was decided, without asking again
            form.apply(record)
        last = decided[-1] if decided else None
        while True:
            if last is not None and last.answer.decision == "give_up":
                return self._end(
                    form.result(
                        SubtaskResult.ended(
                            form.subtask, f"the planner gave up on it: {last.answer.reason}"
                        )
                    )
                )
            if last is not None and last.answer.decision == "split":
                return await self._split(form, last, budget_of, batch)
            left = self.max_replans - self.state.replans_counted(budget_of)
            worker, result = await batch.attempt(form.agent, form.subtask, hand_back=left > 0)
            if result.status == "done" or result.failure != "task" or left <= 0:
                return form.result(result)
            asked = await self._ask(form.subtask, worker, result, budget_of)
            if isinstance(asked, SubtaskResult):
                return self._end(form.result(asked))
            form.tried(result)
            form.apply(asked)
            last = asked

    async def _ask(
        self, subtask: Subtask, worker: Worker, failed: SubtaskResult, budget_of: str
    ) -> ReplanRecord | SubtaskResult:
        """The planner's decision, saved and announced; or, when none could be had, the
        failure saying why."""
        diff = await asyncio.to_thread(self.ctx.workspace.diff)
        section = self.ctx.rules.for_files([*subtask.edit_files, *subtask.read_files])
        case = ReplanCase(
            self.state.task,
            subtask,
            failed.detail,
            worker.attempts,
            diff,
            self._rules(subtask),
            section.text,
        )
        try:
            answer, planner, notes = await ask_planner(
                self.ctx.router, self.planner, case, private=self.ctx.private
            )
        except REPLAN_ERRORS as error:
            detail = f"{failed.detail}; the planner could not re-plan it: {error}"
            return failed.model_copy(update={"detail": detail, "failure": _side(error)})
        for note in [*(f"instructions: {n}" for n in section.omitted), *notes]:
            self.ctx.emit(
                ContentOmitted(
                    run_id=self.ctx.run_id, agent=REPLANNER, subtask_id=subtask.id, what=note
                )
            )
            self.state.omissions.append(f"{REPLANNER} ({subtask.id}): {note}")
        record = ReplanRecord(
            subtask_id=subtask.id, budget_of=budget_of, answer=answer, planner=planner
        )
        self.state.replans.append(record)
        self.save()  # before it is acted on: a resume acts on it instead of asking again
        self.ctx.emit(
            SubtaskReplanned(
                run_id=self.ctx.run_id,
                subtask_id=subtask.id,
                decision=answer.decision,
                outcome=answer.outcome(),
                reason=answer.reason,
                planner=planner,
            )
        )
        return record

    def _rules(self, subtask: Subtask) -> ReplanRules:
        """Ids in use, files other subtasks edit, and the models a stronger worker may be."""
        known = self.state.subtasks()
        taken = {*known, *(result.id for result in self.state.results)}
        if self.state.plan is not None:
            taken |= {planned.id for planned in self.state.plan.subtasks}
        others = {
            path: other.id
            for other in known.values()
            if other.id != subtask.id
            for path in other.edit_files
            if path not in subtask.edit_files
        }
        return ReplanRules(self._stronger(subtask), frozenset(taken), others)

    def _stronger(self, subtask: Subtask) -> tuple[str, ...]:
        """Every configured model its worker chain does not hold; local ones only where the
        run or the agent keeps everything local."""
        agent = self.ctx.config.agents[subtask.agent]
        local = self.ctx.private or agent.privacy == "local_only"
        facts = self.ctx.router.facts
        refs = dict.fromkeys(
            ref for other in self.ctx.config.agents.values() for ref in other.chain
        )
        return tuple(
            ref
            for ref in refs
            if ref not in agent.chain and (not local or facts.tier(ref) == "local")
        )

    async def _split(
        self, form: _Form, record: ReplanRecord, budget_of: str, batch: _Batch
    ) -> SubtaskResult:
        """Carry out the parts in the subtask's place, one at a time; it is done when they are.

        Their checks are the planner's: asked about like any model-written command (a resume
        finds them decided) before any part runs, and those refused are dropped."""
        parts = await self.ctx.commands.settle(record.answer.subtasks, "planner")
        self.save()
        ids = {part.id for part in parts}
        finished = {r.id: r.status == "done" for r in self.state.results if r.id in ids}
        pending = [part for part in parts if part.id not in finished]
        for part in pending:
            self.ctx.emit(
                SubtaskStatus(
                    run_id=self.ctx.run_id,
                    subtask_id=part.id,
                    status="queued",
                    detail=f"part of {form.subtask.id}",
                )
            )

        async def part_of(part: Subtask) -> SubtaskResult:
            return self.keep(await self._carry_out(part, budget_of, batch))

        await run_batch(pending, part_of, batch.skip, concurrency=1, finished=finished)
        outcomes = {r.id: r for r in self.state.results if r.id in ids}
        failed = [outcomes[part.id] for part in parts if outcomes[part.id].status != "done"]
        done = not failed
        names = ", ".join(result.id for result in failed)
        detail = "its parts are done" if done else f"part(s) {names} failed"
        broken = any(result.failure == "infrastructure" for result in failed)
        summary = SubtaskResult(
            id=form.subtask.id,
            title=form.subtask.title,
            kind=form.subtask.kind,
            agent=form.agent.name,
            status="done" if done else "failed",
            commit=None,
            model=None,
            rounds=0,
            detail=f"split into {', '.join(p.id for p in parts)}: {detail}",
            failure=None if done else "infrastructure" if broken else "task",
        )
        return self._end(form.result(summary))

    def _end(self, result: SubtaskResult) -> SubtaskResult:
        """Say that a subtask its worker handed back has ended."""
        ok = result.status == "done"
        run_id, sid = self.ctx.run_id, result.id
        self.ctx.emit(
            SubtaskStatus(run_id=run_id, subtask_id=sid, status=result.status, detail=result.detail)
        )
        self.ctx.emit(SubtaskFinished(run_id=run_id, subtask_id=sid, ok=ok, detail=result.detail))
        return result


def _side(error: Exception) -> FailureSide:
    """Whose the failure to re-plan is. A busy planner (overloaded, 5xx, timeouts) or a spent
    budget is an outage: the run fails resumable and a resume asks again. No planner to ask (none
    fit to plan, no key, no server), an unusable answer or a rejected request leave the subtask
    failed as its worker left it, as a run without a usable planner does."""
    if isinstance(error, BudgetExceededError):
        return "infrastructure"
    if isinstance(error, NoModelAvailableError) and not isinstance(error, PromptTooLargeError):
        return "infrastructure" if error.busy and not error.answered else "task"
    return "task"
