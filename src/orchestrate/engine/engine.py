"""The run loop: plan → workers → checks → review → follow-ups, on a private git branch.

`Engine.run` reads top to bottom: make the workspace, plan, execute the plan's subtasks, then
review rounds (task checks, review, follow-ups) until the reviewer approves or the rounds run
out. Everything it does is an event on the bus; it imports no UI.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.engine.batch_work import BatchWork
from orchestrate.engine.commands import CommandApproval, CommandBook, refuse_all
from orchestrate.engine.edits import FormatStats
from orchestrate.engine.plan import AGENT_FOR_KIND, Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.planner import plan_task
from orchestrate.engine.recovery import holding_run, reopen_workspace
from orchestrate.engine.replanning import Replanning
from orchestrate.engine.result import RunResult, SubtaskResult, outside_task
from orchestrate.engine.review import Review, follow_up_subtasks
from orchestrate.engine.reviewer import review_run
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_state import (
    RunState,
    committed_results,
    load_state,
    save_state,
)
from orchestrate.engine.sensitive_changes import ChangeApproval, refuse_changes
from orchestrate.engine.worker import INFRASTRUCTURE_ERRORS, RunContext
from orchestrate.engine.workspace import Workspace
from orchestrate.events import (
    ContentOmitted,
    EventBus,
    PlanReady,
    ReviewVerdict,
    RunFinished,
    RunNotice,
    SubtaskStatus,
)
from orchestrate.exceptions import (
    ConfigError,
    NoModelAvailableError,
    OutputValidationError,
    PlanError,
    PromptTooLargeError,
    RepoError,
)
from orchestrate.repo_rules.rules import RepoRules, load_rules
from orchestrate.routing.router import Router
from orchestrate.sandbox.environments import CheckEnvironment
from orchestrate.sandbox.setup import CheckSetup

RUN_ERRORS = (*INFRASTRUCTURE_ERRORS, OutputValidationError, PlanError)
"""Planner or reviewer failures that end a run as `failed` (the branch keeps what was done)."""
Status = Literal["approved", "changes_requested", "unchecked", "failed"]


class EngineOptions(BaseModel):
    """How a run is carried out."""

    model_config = ConfigDict(frozen=True)

    concurrency: int = Field(default=4, ge=1)
    """Most subtasks worked on at once (endpoints' own limits apply inside the router)."""
    max_fix_rounds: int = Field(default=3, ge=1)
    """Replies each worker model gets for a subtask before it escalates to the next model."""
    max_replans: int = Field(default=1, ge=0)
    """Times the planner is asked about a subtask every worker model failed (its parts count
    against it too); 0 ends such a subtask failed at once."""
    max_review_rounds: int = Field(default=2, ge=1)
    """Most reviews per run; follow-ups run only when another review will see them."""
    check_timeout: float = Field(default=300.0, gt=0)
    """Seconds each check command may run."""
    local_only: bool = False
    """Never send anything to a cloud model (planner and reviewer must have local models)."""
    accept_unchecked: bool = False
    """Approve a task that has no checks on the reviewer's word alone (the user said so)."""
    always_plan: bool = False
    """Ask the planner even for a task that names its files and checks (which otherwise runs
    as written: a plan would restate it, at a cloud planner's price)."""


class Engine:
    """Plans, delegates, checks and reviews one task at a time."""

    def __init__(
        self,
        config: OrchestrateConfig,
        router: Router,
        repo: Path,
        *,
        events: EventBus,
        options: EngineOptions = EngineOptions(),  # noqa: B008 - frozen defaults, never mutated
        checks: CheckSetup | None = None,
        approve: CommandApproval | None = None,
        approve_changes: ChangeApproval = refuse_changes,
    ) -> None:
        self.config, self.router, self.repo = config, router, repo
        self.events, self.options = events, options
        self.approve = approve or refuse_all
        """Asked before any command a model wrote may run (the CLI's policy, the TUI's dialog)."""
        self.approve_changes = approve_changes
        """Asked before an edit that adds a workflow, a hook or one of our keys is committed."""
        self.checks = checks or CheckSetup(config.checks, repo)
        """How this engine's runs run their check commands."""
        self.format_stats = FormatStats.from_ledger(router.recorder.ledger)
        """How well each model keeps to its edit format, over this and earlier runs."""

    def _agent(self, name: str) -> AgentConfig:
        agent = self.config.agents.get(name)
        if agent is None:
            raise ConfigError(f"no agent named {name!r} is configured: add agents/{name}.yaml")
        return agent

    async def plan(
        self, task: TaskSpec, workspace_root: Path | None = None, run_id: str = ""
    ) -> Plan:
        """Plan `task` without editing anything (a dry run); emits `PlanReady` under `run_id`.
        The planner is asked whatever the task names: the user asked for a plan."""
        self._say_config(run_id)
        return await self._plan(task, workspace_root or self.repo, run_id=run_id, always=True)

    def _say_config(self, run_id: str) -> None:
        """Which config files this run honoured, and what of them it ignored."""
        for line in filter(None, [self.config.honoured, *self.config.notes]):
            self.events.emit(RunNotice(run_id=run_id, text=line))

    async def _plan(
        self,
        task: TaskSpec,
        root: Path,
        run_id: str,
        omitted: list[str] | None = None,
        *,
        always: bool,
    ) -> Plan:
        """Plan `task`; what the planner was not shown is an event each, added to `omitted`."""
        private = self.options.local_only
        agent = self._agent("planner")
        rules = await load_rules(self.repo)
        plan, said, notes = await plan_task(
            self.router, agent, task, root, private=private, rules=rules, always=always
        )
        for note in notes:
            self.events.emit(ContentOmitted(run_id=run_id, agent="planner", what=note))
            if omitted is not None:
                omitted.append(f"planner: {note}")
        if said:
            # Degrading to the task as written is said where the user looks.
            self.events.emit(
                SubtaskStatus(run_id=run_id, subtask_id="task", status="queued", detail=said)
            )
        ids = [subtask.id for subtask in plan.subtasks]
        self.events.emit(PlanReady(run_id=run_id, task=task.title, subtask_ids=ids))
        return plan

    def _check_agents(self) -> None:
        for name in ("planner", "reviewer", *AGENT_FOR_KIND.values()):
            self._agent(name)

    async def run(
        self,
        task: TaskSpec,
        run_id: str,
        plan: Plan | None = None,
        continues: str | None = None,
        start: str | None = None,
    ) -> RunResult:
        """Carry out `task` on branch `orchestrate/<run_id>`; the user's tree is never touched.

        `plan` is one the user already approved (and maybe edited); without it the planner runs.
        `continues` names an earlier run whose branch this one builds on (work sent back);
        `start` a commit to branch from instead of HEAD.
        Progress is saved from before the branch is made and after each step, so
        `resume(run_id)` can finish a run killed at any moment.
        """
        self._check_agents()
        async with holding_run(self.repo, run_id, self.events):
            files = RepoFiles.of(self.repo).run(run_id)
            if files.state.exists():
                raise RepoError(
                    f"run {run_id} was started before: finish it with "
                    f"`orchestrate run --resume {run_id}` or pick another run id"
                )
            state = RunState(run_id=run_id, task=task, continues=continues, start=start)
            if plan is not None:  # approved already: a resume must never plan it again
                state.plan, state.batch = plan, list(plan.subtasks)
            save_state(files.state, state)
            try:
                workspace = await asyncio.to_thread(
                    Workspace.create, self.repo, run_id, continues, start
                )
            except RepoError:
                files.state.unlink()  # nothing was made: there is no run to resume
                raise
            environment = await self._environment(workspace)
            run = _Run(self, workspace, state, environment, await load_rules(self.repo))
            if plan is not None:
                ids = [subtask.id for subtask in plan.subtasks]
                self.events.emit(PlanReady(run_id=run_id, task=task.title, subtask_ids=ids))
            return await self._carry_on(run)

    async def resume(self, run_id: str) -> RunResult:
        """Finish a run a killed process left: finished subtasks and paid calls are not redone.

        Only one process may do so at a time (`RunLockedError` names the other)."""
        self._check_agents()
        async with holding_run(self.repo, run_id, self.events):
            state = load_state(RepoFiles.of(self.repo).run(run_id).state)
            if state.result is not None:
                if not state.result.resumable:
                    return state.result
                state.reopen()
            workspace = await reopen_workspace(self.repo, state, self.events)
            environment = await self._environment(workspace)
            run = _Run(self, workspace, state, environment, await load_rules(self.repo))
            await run.adopt_commits()
            if state.plan is not None:
                ids = [subtask.id for subtask in state.plan.subtasks]
                self.events.emit(PlanReady(run_id=run_id, task=state.task.title, subtask_ids=ids))
            return await self._carry_on(run)

    async def _environment(self, workspace: Workspace) -> CheckEnvironment:
        """The run's check environment. Said at the run's start: which config files it honoured
        (and what it ignored), and how checks will run."""
        environment = await asyncio.to_thread(self.checks.environment, workspace.files)
        self._say_config(workspace.run_id)
        for line in await asyncio.to_thread(self.checks.notes):
            self.events.emit(RunNotice(run_id=workspace.run_id, text=line))
        return environment

    async def _carry_on(self, run: _Run) -> RunResult:
        """Plan if not yet planned, then work and review until the run is settled."""
        state = run.state
        if state.plan is None:
            try:
                plan = await self._plan(
                    state.task,
                    run.workspace.path,
                    state.run_id,
                    state.omissions,
                    always=self.options.always_plan,
                )
                run.set_plan(plan)
            except RUN_ERRORS as error:
                return await run.fail(f"planning failed: {error}", outside_task(error))
        while True:
            await run.settle_commands()
            await run.execute()
            if _settled(state, self.options.max_review_rounds):
                break
            broken = [r for r in state.results if r.failure == "infrastructure"]
            if broken:
                return await run.fail(f"a worker could not reach a model: {broken[0].detail}")
            try:
                review = await run.review()
            except RUN_ERRORS as error:
                return await run.fail(f"review failed: {error}", outside_task(error))
            if review is None:
                break  # no model fit to review: the task's checks decide
            state.reviews += 1
            if not _settled(state, self.options.max_review_rounds):
                taken = {result.id for result in state.results}
                state.batch = follow_up_subtasks(review, taken, f"r{state.reviews}")
                state.batch_by = "reviewer"
            run.save()
        return await run.finish(run.status(), run.summary())


def _checked_subtasks(results: list[SubtaskResult]) -> bool:
    """Whether checks verified every subtask that was done (and at least one was)."""
    done = [result for result in results if result.status == "done"]
    return bool(done) and all(result.checks for result in done)


def _settled(state: RunState, max_reviews: int) -> bool:
    """No more work: the last review approved, asked for nothing, or was the last allowed."""
    review = state.review
    if review is None:
        return False
    return review.verdict == "approve" or not review.follow_ups or state.reviews >= max_reviews


class _Run:
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
        diff = await asyncio.to_thread(self.workspace.diff)
        try:
            review = await review_run(
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
            self.state.not_reviewed = f"no model fit to review was usable ({error})"
            self.save()
            self.ctx.emit(
                RunNotice(
                    run_id=self.ctx.run_id,
                    text="not reviewed: no model fit to review was usable; the task's checks decide",
                )
            )
            return None
        self.state.review = review
        self.ctx.emit(
            ReviewVerdict(
                run_id=self.ctx.run_id, verdict=review.verdict, comments=len(review.comments)
            )
        )
        return review

    def status(self) -> Status:
        """Approved only on the reviewer's word AND every subtask done AND passing checks; the
        reviewer's word alone (no check verified the work) counts only if the user accepted that
        (`accept_unchecked`). When no model fit to review was usable, the checks alone decide, on
        the same terms."""
        review = self.state.review
        reviewed_ok = review is not None and review.verdict == "approve"
        if not (reviewed_ok or self.state.not_reviewed):
            return "changes_requested"
        if any(result.status != "done" for result in self.state.results):
            return "changes_requested"  # the reviewer's word does not cover work never done
        checks = self.state.task_checks
        if checks:
            return "approved" if all(check.ok for check in checks) else "changes_requested"
        if _checked_subtasks(self.state.results) or self.engine.options.accept_unchecked:
            return "approved"
        return "unchecked"

    def summary(self) -> str:
        results = self.state.results
        done = sum(result.status == "done" for result in results)
        checks = self.state.task_checks
        if checks:
            said = "task checks pass" if all(c.ok for c in checks) else "task checks FAIL"
        elif _checked_subtasks(results):
            said = "no task checks; every subtask's own checks passed"
        else:
            said = "no checks ran"
        verdict: str = self.state.review.verdict if self.state.review else "no review"
        if self.state.not_reviewed:
            verdict = "not reviewed"
        return f"{done}/{len(results)} subtasks done; {said}; reviewer: {verdict}"

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
