"""One run under way: its state, and the steps `Engine` takes it through (work a batch of
subtasks, review, finish), each saved as it happens so a killed run can be resumed."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from orchestrate.engine.batch_work import BatchWork
from orchestrate.engine.commands import CommandBook
from orchestrate.engine.format_only import FORMAT_ONLY, format_only_change
from orchestrate.engine.plan import Plan
from orchestrate.engine.quick_review import quick_review
from orchestrate.engine.replanning import Replanning
from orchestrate.engine.result import RunResult, SubtaskResult
from orchestrate.engine.review import Review
from orchestrate.engine.reviewer import review_run
from orchestrate.engine.run_state import RunState, committed_results, save_state
from orchestrate.engine.verdict import Status, run_status, run_summary
from orchestrate.engine.worker import RunContext
from orchestrate.engine.workspace import Workspace
from orchestrate.events import ReviewVerdict, RunFinished, RunNotice
from orchestrate.exceptions import NoModelAvailableError, PromptTooLargeError
from orchestrate.repo_rules.rules import RepoRules
from orchestrate.sandbox.environments import CheckEnvironment

if TYPE_CHECKING:
    from orchestrate.engine.engine import Engine


class ActiveRun:
    """The state of one run, and its steps."""

    def __init__(
        self,
        engine: Engine,
        workspace: Workspace,
        state: RunState,
        environment: CheckEnvironment,
        rules: RepoRules,
    ) -> None:
        self.engine, self.workspace, self.state = engine, workspace, state
        self.task = state.task
        self.state_file = workspace.files.state
        options = engine.options
        self.ctx = RunContext(
            config=engine.config,
            router=engine.router,
            workspace=workspace,
            environment=environment,
            commands=CommandBook(
                state.commands, state.task.checks, engine.approve, state.run_id, engine.events.emit
            ),
            events=engine.events,
            run_id=workspace.run_id,
            stats=engine.format_stats,
            max_fix_rounds=options.max_fix_rounds,
            check_timeout=options.check_timeout,
            private=options.local_only,
            approve_changes=engine.approve_changes,
            rules=rules,
        )
        self.subtasks = Replanning(
            self.ctx,
            state,
            planner=engine.config.agents["planner"],
            max_replans=options.max_replans,
            keep=self._keep,
            save=self.save,
        )
        """Carries each subtask to its end, the planner deciding about those workers fail."""
        recorder = engine.router.recorder
        self.costs_before = (recorder.cloud_usd, recorder.local_tokens, recorder.counterfactual_usd)

    async def settle_commands(self) -> None:
        """Before the batch runs: offer the checks the instructions files of the files it edits
        name; ask about its commands a model wrote; drop those refused."""
        state = self.state
        await self.ctx.rules.offer_checks(self.ctx.commands, state.batch)
        state.batch = await self.ctx.commands.settle(state.batch, state.batch_by)
        self.save()

    def save(self) -> None:
        """Persist the state (cheap: one small file, replaced atomically)."""
        save_state(self.state_file, self.state)

    def set_plan(self, plan: Plan) -> None:
        self.state.plan = plan
        self.state.batch = list(plan.subtasks)
        self.save()

    async def adopt_commits(self) -> None:
        """Count as done the subtasks whose commit landed before the process was killed."""
        commits = await asyncio.to_thread(self.workspace.commits)
        self.state.results += committed_results(self.state, commits)
        self.save()

    async def execute(self) -> None:
        """Run what is left of the current batch (the plan, or a round of follow-ups)."""
        finished = {result.id: result.status == "done" for result in self.state.results}
        subtasks = [subtask for subtask in self.state.batch if subtask.id not in finished]
        concurrency = self.engine.options.concurrency
        work = BatchWork(
            self.ctx,
            self.engine.checks,
            subtasks,
            concurrency=concurrency,
            keep=self._keep,
            carry=self.subtasks,
        )
        await work.run(finished)

    def _keep(self, result: SubtaskResult) -> SubtaskResult:
        self.state.results.append(result)
        self.save()
        return result

    async def review(self) -> Review | None:
        """Run the task's checks, then ask the reviewer about the diff as git has it; None when
        no model fit to review could be had (the run is then "not reviewed")."""
        assert self.state.plan is not None
        async with self.ctx.lock:
            self.state.task_checks = await self.ctx.commands.run(
                self.ctx.commands.task_checks(),
                self.ctx.environment,
                self.engine.options.check_timeout,
            )
        if await format_only_change(self.workspace, self.state.plan, self.state.results):
            self._not_reviewed(FORMAT_ONLY, FORMAT_ONLY.split(" (", 1)[0])
            return None
        diff = await asyncio.to_thread(self.workspace.diff)
        review = await quick_review(self, diff)
        try:
            review = review or await review_run(
                self.engine.router,
                self.engine.config.agents["reviewer"],
                self.task,
                self.state.plan,
                diff=diff,
                results=self.state.results,
                checks=self.state.task_checks,
                private=self.engine.options.local_only,
                omitted=self.state.omissions,
                rules=self.ctx.rules,
            )
        except NoModelAvailableError as error:
            # Not reviewed only when no reviewer is there to ask (unfit, no key, not installed,
            # no server): a reviewer that is busy, answered unusably, or cannot take this diff
            # fails the review as before (an outage can be resumed).
            if isinstance(error, PromptTooLargeError) or error.busy or error.answered:
                raise
            said = "no model fit to review was usable"
            self._not_reviewed(f"{said} ({error})", said)
            return None
        self.state.review = review
        self.ctx.emit(
            ReviewVerdict(
                run_id=self.ctx.run_id, verdict=review.verdict, comments=len(review.comments)
            )
        )
        return review

    def _not_reviewed(self, why: str, said: str) -> None:
        """No review for this run: `why` is kept for the report, `said` in a notice."""
        self.state.not_reviewed = why
        self.save()
        notice = f"not reviewed: {said}; the task's checks decide"
        self.ctx.emit(RunNotice(run_id=self.ctx.run_id, text=notice))

    def status(self) -> Status:
        """See `verdict.run_status`."""
        return run_status(self.state, self.engine.options.accept_unchecked)

    def summary(self) -> str:
        return run_summary(self.state)

    async def fail(self, detail: str, resumable: bool = True) -> RunResult:
        """End the run `failed`; when the cause is outside the task, say how to carry it on."""
        if resumable:
            run_id = self.ctx.run_id
            detail += (
                f"; once that is fixed, `orchestrate run --resume {run_id}` carries the run on "
                "without planning again or paying twice"
            )
        return await self.finish("failed", detail, resumable)

    async def finish(self, status: Status, detail: str, resumable: bool = False) -> RunResult:
        """Build the result and emit `RunFinished`."""
        commits = await asyncio.to_thread(self.workspace.commits)
        recorder = self.engine.router.recorder
        cloud, local, counterfactual = self.costs_before
        self.ctx.emit(
            RunFinished(
                run_id=self.ctx.run_id,
                ok=status == "approved",
                branch=self.workspace.branch,
                detail=detail,
            )
        )
        result = RunResult(
            run_id=self.workspace.run_id,
            task=self.task.title,
            branch=self.workspace.branch,
            worktree=str(self.workspace.path),
            base_sha=self.workspace.base_sha,
            status=status,
            plan=self.state.plan,
            subtasks=self.state.results,
            review=self.state.review,
            reviewed_by=self.state.reviewed_by if self.state.review else "",
            commits=[commit.sha for commit in commits],
            cloud_usd=recorder.cloud_usd - cloud,
            local_tokens=recorder.local_tokens - local,
            counterfactual_usd=recorder.counterfactual_usd - counterfactual,
            detail=detail,
            task_checks=self.state.task_checks,
            omissions=[
                *self.state.omissions,
                *(f"{r.id}: {note}" for r in self.state.results for note in r.omissions),
            ],
            resumable=resumable,
            not_reviewed=self.state.not_reviewed,
            commands=list(self.state.commands),
            flagged=[f"{r.id}: {line}" for r in self.state.results for line in r.flagged],
        )
        self.state.result = result
        self.save()
        return result
