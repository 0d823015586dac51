"""Every task of a plan.md, one after another, through a session; then the batch report.

Tasks run one at a time, each on its own branch from the same HEAD: the concurrency that pays
is among a task's subtasks, and one task's failure never stops the next.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from orchestrate.engine.engine import RUN_ERRORS
from orchestrate.engine.estimate import estimate_plan
from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import PlanDoc, TaskSpec
from orchestrate.engine.report import BatchReport, TaskReport, batch_report, plan_report, run_report
from orchestrate.engine.session import Session, new_run_id, with_context

TaskStarting = Callable[[int, int, str, str], None]
"""Told (index, total, title, run_id) as each task begins."""


async def _dry_run(
    session: Session, task: TaskSpec, run_id: str, routes: Mapping[str, str | None]
) -> TaskReport:
    plan: Plan | None = None
    detail, estimate = "", None
    try:
        plan = await session.plan(task, run_id)
    except RUN_ERRORS as error:
        detail = f"planning failed: {error}"
    if plan is not None:
        estimate = estimate_plan(plan, session.config, session.pricer, session.repo, routes)
    return plan_report(
        task.title,
        run_id,
        plan=plan,
        detail=detail,
        attempts=session.ledger.attempts(run_id),
        pricer=session.pricer,
        estimate=estimate,
    )


async def run_plan(
    session: Session,
    doc: PlanDoc,
    plan_file: str,
    *,
    dry_run: bool = False,
    routes: Mapping[str, str | None] | None = None,
    on_task: TaskStarting | None = None,
) -> BatchReport:
    """Run (or, with `dry_run`, only plan) each task; `routes` maps agents to the model they
    will get, for the dry run's estimate."""
    reports: list[TaskReport] = []
    total = len(doc.tasks)
    for index, spec in enumerate(doc.tasks, start=1):
        task = with_context(spec, doc.context)
        run_id = ("dry-" if dry_run else "") + new_run_id(task.title, index)
        if on_task is not None:
            on_task(index, total, task.title, run_id)
        if dry_run:
            reports.append(await _dry_run(session, task, run_id, routes or {}))
            continue
        result = await session.run(task, run_id)
        attempts = session.ledger.attempts(run_id)
        reports.append(run_report(result, attempts, session.pricer, session.budget_note()))
    every = [row for report in reports for row in session.ledger.attempts(report.run_id)]
    return batch_report(plan_file, reports, every, session.pricer, dry_run)


async def resume_run(session: Session, plan_file: str, run_id: str) -> BatchReport:
    """Finish one killed run (or report the one that already finished), then the report."""
    result = await session.resume(run_id)
    attempts = session.ledger.attempts(run_id)
    report = run_report(result, attempts, session.pricer, session.budget_note())
    return batch_report(plan_file, [report], attempts, session.pricer, False)
