"""`--repos --cloud-batch`: every repository's tasks planned first, all at once, so the planner
calls gather into one batch (half price) instead of waiting on batches of `max_repos` at a time.

Each plan is kept in the run's record as it arrives: a resumed run does not plan again, and the
batch it was waiting on is found again (`batching.pending`) rather than submitted twice. A task
that could not be planned here (the planner failed) is planned by its own run, as always.
"""

from __future__ import annotations

import asyncio

from orchestrate.engine.engine import RUN_ERRORS
from orchestrate.engine.plan import Plan
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.session import with_context
from orchestrate.exceptions import OrchestrateError
from orchestrate.fleet.checkout import prepare
from orchestrate.fleet.options import FleetRun, open_session
from orchestrate.fleet.record import save_fleet


async def plan_ahead(run: FleetRun, *, update: bool) -> None:
    """Plan every task of every repository not planned or started yet; keep each plan."""
    count = len(run.record.repos)
    await asyncio.gather(*(_plan_repo(run, index, update) for index in range(count)))


async def _plan_repo(run: FleetRun, index: int, update: bool) -> None:
    record, options, hooks = run.record, run.options, run.hooks
    repo = record.repos[index]
    label = repo.spec.label
    try:
        checkout = await asyncio.to_thread(prepare, repo.spec, options.github, update=update)
        session = await open_session(checkout, options, run.batch)
    except OrchestrateError as error:
        hooks.line(label, f"not planned ahead ({error}); its run says what follows")
        return
    files = RepoFiles.of(checkout)
    todo = [
        (run_id, with_context(spec, record.doc.context))
        for run_id, spec in zip(record.run_ids, record.doc.tasks, strict=True)
        if run_id not in repo.plans and not files.run(run_id).state.exists()
    ]
    if not todo:
        session.close()
        return
    with session:
        unsubscribe = session.events.subscribe(lambda event: hooks.event(label, event))
        try:
            hooks.line(label, f"planning {len(todo)} task(s) through the Batch API")
            made = await asyncio.gather(
                *(session.plan(task, run_id) for run_id, task in todo), return_exceptions=True
            )
        finally:
            unsubscribe()
    for (run_id, task), plan in zip(todo, made, strict=True):
        if isinstance(plan, Plan):
            record.repos[index].plans[run_id] = plan
        elif isinstance(plan, RUN_ERRORS):
            hooks.line(label, f"{task.title}: not planned ahead ({plan}); its run will plan it")
        else:
            raise plan
    save_fleet(record)  # the event loop is single-threaded: no two saves interleave
