"""The end-of-batch report: per task what happened and what it cost, then totals, as Markdown or JSON.

Money and tokens come from the ledger rows of each run, priced by the same `CostReport` as
`orchestrate cost`, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from orchestrate.engine.checks import CheckResult
from orchestrate.engine.commands import CommandRecord
from orchestrate.engine.estimate import Estimate
from orchestrate.engine.plan import Plan
from orchestrate.engine.result import RunResult
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.report import CostReport, CostTotals, counterfactual_note
from orchestrate.ledger.store import AttemptRecord
from orchestrate.privacy.masking import mask_keys

TaskStatus = Literal["approved", "changes_requested", "unchecked", "failed", "planned"]


class CheckLine(BaseModel):
    """A check command as last run: a task's (from plan.md) or a subtask's (from the plan)."""

    command: str
    """The shell command."""
    ok: bool
    """It passed."""
    exit_code: int | None
    """Its exit status; None if it timed out."""


class SubtaskLine(BaseModel):
    """One subtask as reported."""

    id: str
    """Subtask id."""
    title: str
    """Its title (and commit title)."""
    agent: str
    """Worker agent."""
    model: str | None
    """Model whose edit passed, or the last one tried."""
    status: str
    """`done` or `failed` after a run; `planned` in a dry run."""
    commit: str | None = None
    """Its commit, if any."""
    rounds: int = 0
    """Model replies used."""
    escalations: list[str] = []
    """`from -> to` moves to stronger models."""
    detail: str = ""
    """What happened, in one line."""
    checks: list[CheckLine] = []
    """Its acceptance checks as last run (on its commit when done)."""
    replans: list[str] = []
    """What the planner decided each time every worker model failed it."""


class TaskReport(BaseModel):
    """One task of the batch."""

    task: str
    """Task title from plan.md."""
    run_id: str
    """Run id (ledger rows, branch name, commit trailers)."""
    status: TaskStatus
    """Outcome; `planned` for a dry run that planned successfully."""
    branch: str | None = None
    """The run's branch; None for dry runs."""
    worktree: str | None = None
    """Where the branch is checked out."""
    commits: list[str] = []
    """The run's commits, oldest first."""
    review_verdict: str | None = None
    """The last review's verdict, if there was a review."""
    review_summary: str = ""
    """The last review's summary."""
    reviewed_by: str = ""
    """Who made the last review: the quick reviewer and its model, or the full reviewer (and why
    the quick reviewer did not decide)."""
    subtasks: list[SubtaskLine] = []
    """Subtasks run (or planned), follow-ups included."""
    task_checks: list[CheckLine] = []
    """The plan's checks for the task as last run on the branch; empty if never run."""
    cost: CostTotals
    """What this run really spent and saved, from the ledger."""
    estimate: Estimate | None = None
    """Dry runs: the likely cost of carrying the plan out."""
    plan: Plan | None = None
    """Dry runs: the plan itself."""
    detail: str = ""
    """One line summing up the outcome."""
    budget_note: str = ""
    """Set when a spending cap refused a cloud call during this run, saying what followed."""
    degraded: list[str] = []
    """Agents answered by a model below what was set up for them (`routing.degradation`)."""
    omissions: list[str] = []
    """What a model was not shown (files in part, a cut diff, map symbols), one line each."""
    commands: list[CommandRecord] = []
    """Every command of the run (or, in a dry run, of the plan): who proposed it, who approved
    it (or why it may not run), and how often it ran."""
    flagged: list[str] = []
    """Changes that needed the user's yes (a workflow, a hook, one of our keys) and the answer."""


class BatchTotals(BaseModel):
    """The whole batch."""

    tasks: int
    """Tasks in the batch."""
    approved: int
    """Tasks approved (or, in a dry run, planned)."""
    cost: CostTotals
    """Spend and savings over every run of the batch."""
    estimated_cloud_usd: float | None = None
    """Dry runs: estimated cloud spend of carrying out every plan."""


class BatchReport(BaseModel):
    """What `orchestrate run` prints at the end."""

    plan_file: str
    """The plan.md that was run."""
    dry_run: bool
    """Plans only: nothing was edited and no branch was made."""
    tasks: list[TaskReport]
    """Per task, in plan order."""
    totals: BatchTotals
    """Sums over the tasks."""
    counterfactual_note: str
    """Exactly what the all-cloud figure prices."""
    saved_plans: str | None = None
    """Dry runs: the file holding the plans, for `orchestrate run --plan FILE`."""

    @property
    def ok(self) -> bool:
        """Every task approved (or planned, in a dry run)."""
        return self.totals.approved == self.totals.tasks


def _costs(attempts: Sequence[AttemptRecord], pricer: Pricer, run_id: str) -> CostTotals:
    return CostReport.from_attempts(attempts, pricer, run_id=run_id).totals


def _checks(results: Sequence[CheckResult]) -> list[CheckLine]:
    return [CheckLine(command=c.command, ok=c.ok, exit_code=c.exit_code) for c in results]


def run_report(
    result: RunResult,
    attempts: Sequence[AttemptRecord],
    pricer: Pricer,
    budget_note: str = "",
    degraded: Sequence[str] = (),
) -> TaskReport:
    """A finished run, with its ledger rows, what the budget did and which agents were answered
    below what was set up, if anything."""
    subtasks = [
        SubtaskLine(
            id=s.id,
            title=s.title,
            agent=s.agent,
            model=s.model,
            status=s.status,
            commit=s.commit,
            rounds=s.rounds,
            escalations=list(s.escalations),
            detail=s.detail,
            checks=_checks(s.checks),
            replans=list(s.replans),
        )
        for s in result.subtasks
    ]
    review = result.review
    return TaskReport(
        task=result.task,
        run_id=result.run_id,
        status=result.status,
        branch=result.branch,
        worktree=result.worktree,
        commits=list(result.commits),
        review_verdict=review.verdict
        if review
        else ("not reviewed" if result.not_reviewed else None),
        review_summary=review.summary if review else result.not_reviewed,
        reviewed_by=result.reviewed_by if review else "",
        subtasks=subtasks,
        task_checks=_checks(result.task_checks),
        cost=_costs(attempts, pricer, result.run_id),
        detail=result.detail,
        budget_note=budget_note,
        omissions=list(result.omissions),
        commands=list(result.commands),
        flagged=list(result.flagged),
        degraded=list(degraded),
    )


def plan_report(
    title: str,
    run_id: str,
    *,
    plan: Plan | None,
    detail: str,
    attempts: Sequence[AttemptRecord],
    pricer: Pricer,
    estimate: Estimate | None,
    commands: Sequence[CommandRecord] = (),
) -> TaskReport:
    """A dry run of one task: its plan (or why there is none), the estimate, and its commands
    with whether each would run as things stand."""
    subtasks = [
        SubtaskLine(id=s.id, title=s.title, agent=s.agent, model=None, status="planned")
        for s in (plan.subtasks if plan else [])
    ]
    return TaskReport(
        task=title,
        run_id=run_id,
        status="planned" if plan else "failed",
        subtasks=subtasks,
        cost=_costs(attempts, pricer, run_id),
        estimate=estimate,
        plan=plan,
        detail=detail or (plan.summary if plan else ""),
        commands=list(commands),
    )


def batch_report(
    plan_file: str,
    tasks: list[TaskReport],
    attempts: Sequence[AttemptRecord],
    pricer: Pricer,
    dry_run: bool,
) -> BatchReport:
    """Totals over `tasks`; `attempts` are every ledger row of the batch's runs."""
    good = "planned" if dry_run else "approved"
    estimates = [task.estimate.cloud_usd for task in tasks if task.estimate is not None]
    totals = BatchTotals(
        tasks=len(tasks),
        approved=sum(task.status == good for task in tasks),
        cost=_costs(attempts, pricer, ""),
        estimated_cloud_usd=sum(estimates) if dry_run else None,
    )
    return BatchReport(
        plan_file=plan_file,
        dry_run=dry_run,
        tasks=tasks,
        totals=totals,
        counterfactual_note=counterfactual_note(pricer),
    )


def render_json(report: BatchReport) -> str:
    """The report as indented JSON, with our keys masked (it quotes model errors and checks)."""
    return mask_keys(report.model_dump_json(indent=2))
