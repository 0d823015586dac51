"""Carrying out a `--repos` run: every repository through its own session, at most `max_repos`
at once, one repository's failure never stopping the others.

Each repository runs (or resumes) the plan exactly as `orchestrate run plan.md --repo DIR` would:
the same `run_plan`/`resume_run`, the same per-plan lock and saved records, so stopping the whole
run and `--resume`-ing it carries on every repository where it was. With `--cloud-batch`, every
repository is planned first, all at once (`plan_ahead`), so their plans go in one batch at half
price, and the reviews of repositories finishing together share batches too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from orchestrate.batching.queue import BatchQueue, batch_queue
from orchestrate.config.loader import load_config
from orchestrate.engine.batch import resume_run, run_plan
from orchestrate.engine.batch_record import find_batch
from orchestrate.engine.report import BatchReport
from orchestrate.exceptions import OrchestrateError
from orchestrate.fleet.checkout import prepare
from orchestrate.fleet.options import FleetHooks, FleetOptions, FleetRun, open_session
from orchestrate.fleet.plan_ahead import plan_ahead
from orchestrate.fleet.pulls import publish
from orchestrate.fleet.record import FleetRecord, FleetRepo, PullLink, save_fleet
from orchestrate.fleet.report import FleetReport, RepoRow, failed_row, repo_row, sum_costs


async def run_fleet(
    record: FleetRecord, options: FleetOptions, hooks: FleetHooks, *, resuming: bool
) -> FleetReport:
    """Run (or carry on) the plan in every repository; the report has a row for each."""
    batch = _queue(options) if options.cloud_batch else None
    run = FleetRun(record, options, hooks, batch)
    try:
        if batch is not None and not options.dry_run:
            await plan_ahead(run, update=not resuming)
        return await _every_repo(run, update=not resuming and batch is None)
    finally:
        if batch is not None:
            await batch.aclose()


def _queue(options: FleetOptions) -> BatchQueue:
    """One queue for every repository, timed by the `cloud_batch:` settings `--agents` gives."""
    return batch_queue(load_config(Path.cwd(), options.agents).cloud_batch)


async def _every_repo(run: FleetRun, *, update: bool) -> FleetReport:
    record, options, batch = run.record, run.options, run.batch
    # A dry run with --cloud-batch only plans: every repository at once, into one batch.
    at_once = len(record.repos) if batch is not None and options.dry_run else options.max_repos
    limit = asyncio.Semaphore(at_once)

    async def one(index: int, repo: FleetRepo) -> RepoRow:
        async with limit:
            row = await _repo(run, repo, update=update)
        if row.pulls != repo.pulls:
            record.repos[index] = record.repos[index].model_copy(update={"pulls": row.pulls})
            save_fleet(record)  # the event loop is single-threaded: no two saves interleave
        return row

    rows = await asyncio.gather(*(one(i, repo) for i, repo in enumerate(record.repos)))
    return FleetReport(
        fleet_id=record.fleet_id,
        plan_file=record.plan_file,
        dry_run=options.dry_run,
        rows=list(rows),
        cost=sum_costs([row.cost for row in rows]),
    )


async def _repo(run: FleetRun, repo: FleetRepo, *, update: bool) -> RepoRow:
    record, options, hooks = run.record, run.options, run.hooks
    label = repo.spec.label
    hooks.line(label, "starting")
    try:
        checkout = await asyncio.to_thread(prepare, repo.spec, options.github, update=update)
        report = await _plan_in(run, repo, checkout)
    except OrchestrateError as error:
        hooks.line(label, f"failed: {error}")
        return failed_row(label, str(error))
    pulls, detail = list(repo.pulls), ""
    if record.open_prs and not options.dry_run:
        found, detail = await asyncio.to_thread(
            publish, repo.spec, checkout, report, options.github
        )
        pulls = _merged(pulls, found)
        for pull in found:
            hooks.line(label, f"pull request #{pull.number}: {pull.url}")
    row = repo_row(label, report, pulls, detail)
    hooks.line(label, f"{row.status}")
    return row


async def _plan_in(run: FleetRun, repo: FleetRepo, checkout: Path) -> BatchReport:
    record, options, hooks = run.record, run.options, run.hooks
    label = repo.spec.label
    with await open_session(checkout, options, run.batch) as session:
        unsubscribe = session.events.subscribe(lambda event: hooks.event(label, event))
        try:
            routes = await hooks.routes(label, session, record.doc)
            if options.dry_run:
                return await run_plan(
                    session, record.doc, record.plan_file, dry_run=True, routes=routes
                )
            first = record.run_ids[0]
            if await asyncio.to_thread(find_batch, checkout, first) is not None:
                return await resume_run(session, record.plan_file, first, plans=repo.plans)
            return await run_plan(
                session, record.doc, record.plan_file, run_ids=record.run_ids, plans=repo.plans
            )
        finally:
            unsubscribe()


def _merged(known: list[PullLink], found: list[PullLink]) -> list[PullLink]:
    by_run = {pull.run_id: pull for pull in known}
    by_run.update({pull.run_id: pull for pull in found})
    return list(by_run.values())
