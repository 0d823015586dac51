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
from orchestrate.engine.checks import CheckResult, run_checks
from orchestrate.engine.edits import FormatStats
from orchestrate.engine.plan import AGENT_FOR_KIND, Plan, Subtask, plan_as_written
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.planner import make_plan
from orchestrate.engine.result import RunResult, SubtaskResult
from orchestrate.engine.review import Review, follow_up_subtasks
from orchestrate.engine.reviewer import review_run
from orchestrate.engine.scheduler import run_batch
from orchestrate.engine.worker import INFRASTRUCTURE_ERRORS, RunContext, Worker
from orchestrate.engine.workspace import Workspace
from orchestrate.events import (
    EventBus,
    PlanReady,
    ReviewVerdict,
    RunFinished,
    SubtaskFinished,
    SubtaskStatus,
)
from orchestrate.exceptions import (
    ConfigError,
    NoModelAvailableError,
    OutputValidationError,
    PlanError,
)
from orchestrate.routing.router import Router

RUN_ERRORS = (*INFRASTRUCTURE_ERRORS, OutputValidationError, PlanError)
"""Planner or reviewer failures that end a run as `failed` (the branch keeps what was done)."""
PLAN_UNAVAILABLE = (NoModelAvailableError, OutputValidationError, PlanError)
"""No model produced a valid plan: a task that names its files can still run as written.
A rejected request, a privacy block or a spent budget are not papered over this way."""
Status = Literal["approved", "changes_requested", "failed"]


class EngineOptions(BaseModel):
    """How a run is carried out."""

    model_config = ConfigDict(frozen=True)

    concurrency: int = Field(default=4, ge=1)
    """Most subtasks worked on at once (endpoints' own limits apply inside the router)."""
    max_fix_rounds: int = Field(default=3, ge=1)
    """Replies each worker model gets for a subtask before it escalates to the next model."""
    max_review_rounds: int = Field(default=2, ge=1)
    """Most reviews per run; follow-ups run only when another review will see them."""
    check_timeout: float = Field(default=300.0, gt=0)
    """Seconds each check command may run."""
    local_only: bool = False
    """Never send anything to a cloud model (planner and reviewer must have local models)."""


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
    ) -> None:
        self.config, self.router, self.repo = config, router, repo
        self.events, self.options = events, options
        self.format_stats = FormatStats()
        """How well each model keeps to its edit format; shared by this engine's runs."""

    def _agent(self, name: str) -> AgentConfig:
        agent = self.config.agents.get(name)
        if agent is None:
            raise ConfigError(f"no agent named {name!r} is configured: add agents/{name}.yaml")
        return agent

    async def plan(
        self, task: TaskSpec, workspace_root: Path | None = None, run_id: str = ""
    ) -> Plan:
        """Plan `task` without editing anything (a dry run); emits `PlanReady` under `run_id`."""
        return await self._plan(task, workspace_root or self.repo, run_id=run_id)

    async def _plan(self, task: TaskSpec, root: Path, run_id: str) -> Plan:
        private = self.options.local_only
        try:
            plan = await make_plan(self.router, self._agent("planner"), task, root, private=private)
        except PLAN_UNAVAILABLE as error:
            if not task.files:
                raise
            # A task that names its files is already a plan of one subtask: degrade to it
            # rather than fail, and say so (the reviewer still judges the result).
            plan = plan_as_written(task.title, task.instructions, task.files, task.checks)
            self.events.emit(
                SubtaskStatus(
                    run_id=run_id,
                    subtask_id="task",
                    status="queued",
                    detail=f"planner failed ({error}); running the task as written",
                )
            )
        ids = [subtask.id for subtask in plan.subtasks]
        self.events.emit(PlanReady(run_id=run_id, task=task.title, subtask_ids=ids))
        return plan

    async def run(self, task: TaskSpec, run_id: str, plan: Plan | None = None) -> RunResult:
        """Carry out `task` on branch `orchestrate/<run_id>`; the user's tree is never touched.

        `plan` is one the user already approved (and maybe edited); without it the planner runs.
        """
        for name in ("planner", "reviewer", *AGENT_FOR_KIND.values()):
            self._agent(name)
        workspace = await asyncio.to_thread(Workspace.create, self.repo, run_id)
        run = _Run(self, task, workspace)
        if plan is not None:
            run.plan = plan
            ids = [subtask.id for subtask in plan.subtasks]
            self.events.emit(PlanReady(run_id=run_id, task=task.title, subtask_ids=ids))
        else:
            try:
                run.plan = await self._plan(task, workspace.path, run_id)
            except RUN_ERRORS as error:
                return await run.finish("failed", f"planning failed: {error}")
        await run.execute(run.plan.subtasks)
        for round_number in range(1, self.options.max_review_rounds + 1):
            broken = [r for r in run.results if r.failure == "infrastructure"]
            if broken:
                return await run.finish(
                    "failed", f"a worker could not reach a model: {broken[0].detail}"
                )
            try:
                review = await run.review()
            except RUN_ERRORS as error:
                return await run.finish("failed", f"review failed: {error}")
            if review.verdict == "approve" or not review.follow_ups:
                break
            if round_number < self.options.max_review_rounds:
                taken = {result.id for result in run.results}
                await run.execute(follow_up_subtasks(review, taken, f"r{round_number}"))
        return await run.finish(run.status(), run.summary())


class _Run:
    """The state of one run, and its steps."""

    def __init__(self, engine: Engine, task: TaskSpec, workspace: Workspace) -> None:
        self.engine, self.task, self.workspace = engine, task, workspace
        options = engine.options
        self.ctx = RunContext(
            config=engine.config,
            router=engine.router,
            workspace=workspace,
            events=engine.events,
            run_id=workspace.run_id,
            stats=engine.format_stats,
            max_fix_rounds=options.max_fix_rounds,
            check_timeout=options.check_timeout,
            private=options.local_only,
        )
        recorder = engine.router.recorder
        self.costs_before = (recorder.cloud_usd, recorder.local_tokens, recorder.counterfactual_usd)
        self.plan: Plan | None = None
        self.results: list[SubtaskResult] = []
        self.review_result: Review | None = None
        self.task_checks: list[CheckResult] = []

    async def execute(self, subtasks: list[Subtask]) -> None:
        """Run a batch of subtasks (the plan, or a round of follow-ups)."""
        for subtask in subtasks:
            self.ctx.emit(
                SubtaskStatus(run_id=self.ctx.run_id, subtask_id=subtask.id, status="queued")
            )
        finished = {result.id: result.status == "done" for result in self.results}
        self.results += await run_batch(
            subtasks,
            self._work,
            self._skip,
            concurrency=self.engine.options.concurrency,
            finished=finished,
        )

    async def _work(self, subtask: Subtask) -> SubtaskResult:
        agent = self.engine.config.agents[subtask.agent]
        return await Worker(self.ctx, agent, subtask).run()

    def _skip(self, subtask: Subtask, reason: str) -> SubtaskResult:
        run_id, sid = self.ctx.run_id, subtask.id
        self.ctx.emit(SubtaskStatus(run_id=run_id, subtask_id=sid, status="failed", detail=reason))
        self.ctx.emit(SubtaskFinished(run_id=run_id, subtask_id=sid, ok=False, detail=reason))
        return SubtaskResult.skipped(subtask, reason)

    async def review(self) -> Review:
        """Run the task's checks, then ask the reviewer about the diff as git has it."""
        assert self.plan is not None
        async with self.ctx.lock:
            self.task_checks = await run_checks(
                self.task.checks, self.workspace.path, self.engine.options.check_timeout
            )
        diff = await asyncio.to_thread(self.workspace.diff)
        review = await review_run(
            self.engine.router,
            self.engine.config.agents["reviewer"],
            self.task,
            self.plan,
            diff=diff,
            results=self.results,
            checks=self.task_checks,
            private=self.engine.options.local_only,
        )
        self.review_result = review
        self.ctx.emit(
            ReviewVerdict(
                run_id=self.ctx.run_id, verdict=review.verdict, comments=len(review.comments)
            )
        )
        return review

    def status(self) -> Status:
        approved = self.review_result is not None and self.review_result.verdict == "approve"
        checks_pass = all(check.ok for check in self.task_checks)
        return "approved" if approved and checks_pass else "changes_requested"

    def summary(self) -> str:
        done = sum(result.status == "done" for result in self.results)
        checks = "task checks pass" if all(c.ok for c in self.task_checks) else "task checks FAIL"
        verdict = self.review_result.verdict if self.review_result else "no review"
        return f"{done}/{len(self.results)} subtasks done; {checks}; reviewer: {verdict}"

    async def finish(self, status: Status, detail: str) -> RunResult:
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
        return RunResult(
            run_id=self.workspace.run_id,
            task=self.task.title,
            branch=self.workspace.branch,
            worktree=str(self.workspace.path),
            base_sha=self.workspace.base_sha,
            status=status,
            plan=self.plan,
            subtasks=self.results,
            review=self.review_result,
            commits=[commit.sha for commit in commits],
            cloud_usd=recorder.cloud_usd - cloud,
            local_tokens=recorder.local_tokens - local,
            counterfactual_usd=recorder.counterfactual_usd - counterfactual,
            detail=detail,
            task_checks=self.task_checks,
        )
