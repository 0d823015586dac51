"""The run loop: plan → workers → checks → review → follow-ups, on a private git branch.

`Engine.run` reads top to bottom: make the workspace, plan, execute the plan's subtasks, then
review rounds (task checks, review, follow-ups) until the reviewer approves or the rounds run
out. Everything it does is an event on the bus; it imports no UI.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.engine.active_run import ActiveRun
from orchestrate.engine.commands import CommandApproval, refuse_all
from orchestrate.engine.edits import FormatStats
from orchestrate.engine.plan import AGENT_FOR_KIND, Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.planner import plan_task
from orchestrate.engine.quick_review import QUICK_REVIEW_LINES
from orchestrate.engine.recovery import holding_run, reopen_workspace
from orchestrate.engine.result import RunResult, outside_task
from orchestrate.engine.review import follow_up_subtasks
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_state import (
    RunState,
    load_state,
    save_state,
)
from orchestrate.engine.sensitive_changes import ChangeApproval, refuse_changes
from orchestrate.engine.verdict import settled
from orchestrate.engine.worker import INFRASTRUCTURE_ERRORS
from orchestrate.engine.workspace import Workspace
from orchestrate.events import (
    ContentOmitted,
    EventBus,
    PlanReady,
    RunNotice,
    SubtaskStatus,
)
from orchestrate.exceptions import (
    ConfigError,
    OutputValidationError,
    PlanError,
    RepoError,
)
from orchestrate.repo_rules.rules import load_rules
from orchestrate.routing.router import Router
from orchestrate.sandbox.environments import CheckEnvironment
from orchestrate.sandbox.setup import CheckSetup

RUN_ERRORS = (*INFRASTRUCTURE_ERRORS, OutputValidationError, PlanError)
"""Planner or reviewer failures that end a run as `failed` (the branch keeps what was done)."""


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
    full_review: bool = False
    """Skip the quick reviewer: every review is the full reviewer's (`engine/quick_review.py`)."""
    quick_review_lines: int = Field(default=QUICK_REVIEW_LINES, ge=0)
    """Most changed lines (added + removed) the quick reviewer may approve."""


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
            run = ActiveRun(self, workspace, state, environment, await load_rules(self.repo))
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
            run = ActiveRun(self, workspace, state, environment, await load_rules(self.repo))
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

    async def _carry_on(self, run: ActiveRun) -> RunResult:
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
            if settled(state, self.options.max_review_rounds):
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
            if not settled(state, self.options.max_review_rounds):
                taken = {result.id for result in state.results}
                state.batch = follow_up_subtasks(review, taken, f"r{state.reviews}")
                state.batch_by = "reviewer"
            run.save()
        return await run.finish(run.status(), run.summary())
