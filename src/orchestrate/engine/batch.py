"""Every task of a plan.md, one after another, through a session; then the batch report.

Tasks run one at a time, each on its own branch from the same commit: the concurrency that pays
is among a task's subtasks, and one task's failure never stops the next. Before the first task
starts, the plan's tasks and their run ids are saved (`batch_record`), so a resume of any of its
runs carries on the whole plan, and one process at a time holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from orchestrate.engine.batch_record import (
    BatchRecord,
    BatchTask,
    batch_holder,
    batch_lock,
    find_batch,
    save_batch,
)
from orchestrate.engine.commands import CommandBook, CommandRecord
from orchestrate.engine.engine import RUN_ERRORS
from orchestrate.engine.estimate import estimate_plan
from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import PlanDoc, TaskSpec
from orchestrate.engine.report import BatchReport, TaskReport, batch_report, plan_report, run_report
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_lock import RunLock, locked_error, run_holder
from orchestrate.engine.saved_plans import PlannedTask, SavedPlans, save_plans
from orchestrate.engine.session import Session, new_run_id, with_context
from orchestrate.engine.workspace import head_commit
from orchestrate.exceptions import OrchestrateError, PlanError, RunLockedError, StorageError
from orchestrate.ledger.report import CostReport

TaskStarting = Callable[[int, int, str, str], None]
"""Told (index, total, title, run_id) as each task begins."""


async def _would_run(session: Session, task: TaskSpec, plan: Plan) -> list[CommandRecord]:
    """The plan's commands, and whether each would run as things stand (the same answer the
    run will get: the session's approval hook, asked for nothing but an opinion)."""
    records: list[CommandRecord] = []
    book = CommandBook(records, task.checks, session.approve, "dry-run", lambda _event: None)
    await book.settle(plan.subtasks, "planner")
    return records


async def _dry_run(
    session: Session, task: TaskSpec, run_id: str, routes: Mapping[str, str | None]
) -> tuple[TaskReport, PlannedTask]:
    plan: Plan | None = None
    detail, estimate, commands = "", None, []
    try:
        plan = await session.plan(task, run_id)
    except RUN_ERRORS as error:
        detail = f"planning failed: {error}"
    if plan is not None:
        estimate = estimate_plan(plan, session.config, session.pricer, session.repo, routes)
        commands = await _would_run(session, task, plan)
    report = plan_report(
        task.title,
        run_id,
        plan=plan,
        detail=detail,
        attempts=session.ledger.attempts(run_id),
        pricer=session.pricer,
        estimate=estimate,
        commands=commands,
    )
    return report, PlannedTask(task=task, plan=plan)


async def _dry_run_all(
    session: Session,
    doc: PlanDoc,
    plan_file: str,
    routes: Mapping[str, str | None],
    *,
    on_task: TaskStarting | None,
    save_to: Path | None,
) -> BatchReport:
    reports: list[TaskReport] = []
    planned: list[PlannedTask] = []
    for index, spec in enumerate(doc.tasks, start=1):
        task = with_context(spec, doc.context)
        run_id = "dry-" + new_run_id(task.title, index)
        if on_task is not None:
            on_task(index, len(doc.tasks), task.title, run_id)
        report, plan = await _dry_run(session, task, run_id, routes)
        reports.append(report)
        planned.append(plan)
    if save_to is None:
        save_to = RepoFiles.of(session.repo).plans / f"{reports[0].run_id}.json"
    save_plans(save_to, SavedPlans(plan_file=plan_file, tasks=planned))
    every = [row for report in reports for row in session.ledger.attempts(report.run_id)]
    done = batch_report(plan_file, reports, every, session.pricer, True)
    return done.model_copy(update={"saved_plans": str(save_to)})


@asynccontextmanager
async def _holding(lock: RunLock) -> AsyncIterator[None]:
    await asyncio.to_thread(lock.acquire)
    try:
        yield
    finally:
        lock.release()


async def run_plan(
    session: Session,
    doc: PlanDoc,
    plan_file: str,
    *,
    dry_run: bool = False,
    routes: Mapping[str, str | None] | None = None,
    on_task: TaskStarting | None = None,
    run_ids: Sequence[str] | None = None,
    save_to: Path | None = None,
    plans: Mapping[str, Plan] | None = None,
) -> BatchReport:
    """Run (or, with `dry_run`, only plan) each task; `routes` maps agents to the model they
    will get, for the dry run's estimate. `run_ids` names each task's run (one per task, in plan
    order) when the caller fixed them beforehand (a `--repos` run uses one set in every
    repository); by default they are made now. A dry run saves its plans to `save_to` (by
    default among the repository's run files) for `run_saved`. `plans` holds plans made beforehand, by run id (a
    `--cloud-batch` run plans every repository in one batch first)."""
    if dry_run:
        return await _dry_run_all(
            session, doc, plan_file, routes or {}, on_task=on_task, save_to=save_to
        )
    ids = list(run_ids or [new_run_id(spec.title, i) for i, spec in enumerate(doc.tasks, 1)])
    if len(ids) != len(doc.tasks):
        raise ValueError(f"{len(ids)} run ids for {len(doc.tasks)} tasks")
    tasks = [
        BatchTask(
            run_id=run_id, task=with_context(spec, doc.context), plan=(plans or {}).get(run_id)
        )
        for run_id, spec in zip(ids, doc.tasks, strict=True)
    ]
    return await _start(session, plan_file, tasks, on_task)


async def run_saved(
    session: Session, saved: SavedPlans, source: str, on_task: TaskStarting | None = None
) -> BatchReport:
    """Carry out exactly the plans a dry run saved (in `source`): no planner is asked."""
    unplanned = "its dry run made no plan: plan it again with --dry-run"
    tasks = [
        BatchTask(
            run_id=new_run_id(item.task.title, index),
            task=item.task,
            plan=item.plan,
            skip="" if item.plan is not None else unplanned,
        )
        for index, item in enumerate(saved.tasks, start=1)
    ]
    return await _start(session, f"{saved.plan_file} (as planned in {source})", tasks, on_task)


async def _start(
    session: Session, plan_file: str, tasks: list[BatchTask], on_task: TaskStarting | None
) -> BatchReport:
    start = await asyncio.to_thread(head_commit, session.repo)
    record = BatchRecord(batch_id=tasks[0].run_id, plan_file=plan_file, start=start, tasks=tasks)
    async with _holding(batch_lock(session.repo, record)):
        save_batch(session.repo, record)
        return await _carry_out(session, record, on_task, {})


def resume_holder_error(session: Session, run_id: str) -> RunLockedError | None:
    """The error a resume of `run_id` would stop with because another process has it, if any:
    asked before anything is printed, so the refusal is the only line the user sees."""
    record = find_batch(session.repo, run_id)
    if record is not None:
        holder = batch_holder(session.repo, record)
        return None if holder is None else locked_error(f"plan {record.plan_file}", holder)
    holder = run_holder(session.repo, run_id)
    return None if holder is None else locked_error(f"run {run_id}", holder)


async def resume_run(
    session: Session,
    plan_file: str,
    run_id: str,
    on_task: TaskStarting | None = None,
    plans: Mapping[str, Plan] | None = None,
) -> BatchReport:
    """Carry on the plan run `run_id` belongs to (every unfinished task of it), or that one run
    when it was made alone; finished work is reported, not redone or paid again."""
    record = find_batch(session.repo, run_id)
    if record is not None:
        async with _holding(batch_lock(session.repo, record)):
            return await _carry_out(session, record, on_task, plans or {})
    if on_task is not None:
        on_task(1, 1, "resuming", run_id)
    result = await session.resume(run_id)
    attempts = session.ledger.attempts(run_id)
    report = run_report(
        result, attempts, session.pricer, session.budget_note(), session.degraded(attempts)
    )
    return batch_report(plan_file, [report], attempts, session.pricer, False)


async def _carry_out(
    session: Session,
    record: BatchRecord,
    on_task: TaskStarting | None,
    plans: Mapping[str, Plan],
) -> BatchReport:
    """Every task of the record; `plans` holds plans made beforehand, by run id."""
    reports: list[TaskReport] = []
    for index, item in enumerate(record.tasks, start=1):
        if on_task is not None:
            on_task(index, len(record.tasks), item.task.title, item.run_id)
        # A plan made ahead after the record was saved (a resumed `--cloud-batch` run) counts too.
        plan = item.plan if item.plan is not None else plans.get(item.run_id)
        reports.append(await _task(session, item, record.start, plan))
    every = [row for report in reports for row in session.ledger.attempts(report.run_id)]
    return batch_report(record.plan_file, reports, every, session.pricer, False)


async def _task(session: Session, item: BatchTask, start: str, plan: Plan | None) -> TaskReport:
    """One task: resumed if its run was started, else started (on `plan`, if it was planned
    beforehand); its failure is its own."""
    try:
        if RepoFiles.of(session.repo).run(item.run_id).state.exists():
            result = await session.resume(item.run_id)
        elif item.skip:
            raise PlanError(item.skip)
        else:
            result = await session.run(item.task, item.run_id, plan=item.plan, start=start)
    except (StorageError, RunLockedError):
        raise  # the next task would meet the same full disk or the same other process
    except OrchestrateError as error:
        attempts = session.ledger.attempts(item.run_id)
        return TaskReport(
            task=item.task.title,
            run_id=item.run_id,
            status="failed",
            cost=CostReport.from_attempts(attempts, session.pricer, item.run_id).totals,
            detail=str(error),
        )
    attempts = session.ledger.attempts(item.run_id)
    return run_report(
        result, attempts, session.pricer, session.budget_note(), session.degraded(attempts)
    )
