"""Carrying out a `--repos` run: every repository through its own session, at most `max_repos`
at once, one repository's failure never stopping the others.

Each repository runs (or resumes) the plan exactly as `orchestrate run plan.md --repo DIR` would:
the same `run_plan`/`resume_run`, the same per-plan lock and saved records, so stopping the whole
run and `--resume`-ing it carries on every repository where it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrate.engine.batch import resume_run, run_plan
from orchestrate.engine.batch_record import find_batch
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import EngineOptions
from orchestrate.engine.report import BatchReport
from orchestrate.engine.session import Session
from orchestrate.events import Event
from orchestrate.exceptions import OrchestrateError
from orchestrate.fleet.checkout import GitHubAccess, prepare
from orchestrate.fleet.pulls import publish
from orchestrate.fleet.record import FleetRecord, FleetRepo, PullLink, save_fleet
from orchestrate.fleet.report import FleetReport, RepoRow, failed_row, repo_row, sum_costs


@dataclass(frozen=True)
class FleetOptions:
    """How every repository's run is carried out."""

    engine: EngineOptions = field(default_factory=EngineOptions)
    """The same options a single-repository run takes."""
    max_repos: int = 2
    """Repositories worked on at once."""
    agents: Path | None = None
    """`--agents`, for every repository (each one's own `agents/` still applies)."""
    ledger: Path | None = None
    """One ledger for all; None: each repository's own."""
    budget: float | None = None
    """`--budget`, for each repository's runs."""
    dry_run: bool = False
    """Plan only."""
    github: GitHubAccess = field(default_factory=GitHubAccess)
    """API root and token for cloning and pull requests."""
    trust_model_checks: bool = False
    """`--trust-model-checks`: commands the planner or a reviewer wrote run without asking."""


class FleetHooks:
    """What the command line watches: overridden by the progress printer."""

    async def routes(self, repo: str, session: Session) -> Mapping[str, str | None]:
        """Check the repository's agents can run (raise if not); the model each will get."""
        return {}

    def event(self, repo: str, event: Event) -> None:
        """One event of one repository's runs."""

    def line(self, repo: str, text: str) -> None:
        """One line about a repository (started, finished, pull request opened)."""


async def run_fleet(
    record: FleetRecord, options: FleetOptions, hooks: FleetHooks, *, resuming: bool
) -> FleetReport:
    """Run (or carry on) the plan in every repository; the report has a row for each."""
    limit = asyncio.Semaphore(options.max_repos)

    async def one(index: int, repo: FleetRepo) -> RepoRow:
        async with limit:
            row = await _repo(record, repo, options, hooks, resuming=resuming)
        if row.pulls != repo.pulls:
            record.repos[index] = repo.model_copy(update={"pulls": row.pulls})
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


async def _repo(
    record: FleetRecord,
    repo: FleetRepo,
    options: FleetOptions,
    hooks: FleetHooks,
    *,
    resuming: bool,
) -> RepoRow:
    label = repo.spec.label
    hooks.line(label, "starting")
    try:
        checkout = await asyncio.to_thread(prepare, repo.spec, options.github, update=not resuming)
        report = await _plan_in(record, checkout, label, options, hooks)
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


async def _plan_in(
    record: FleetRecord, checkout: Path, label: str, options: FleetOptions, hooks: FleetHooks
) -> BatchReport:
    session = await asyncio.to_thread(
        Session.open,
        checkout,
        agents_dir=options.agents,
        ledger_path=options.ledger,
        budget_usd=options.budget,
        options=options.engine,
    )
    with session:
        # The batch policy, as in a single repository's run.
        session.approve = BatchPolicy(session.config.checks.allow, options.trust_model_checks)
        unsubscribe = session.events.subscribe(lambda event: hooks.event(label, event))
        try:
            routes = await hooks.routes(label, session)
            if options.dry_run:
                return await run_plan(
                    session, record.doc, record.plan_file, dry_run=True, routes=routes
                )
            first = record.run_ids[0]
            if await asyncio.to_thread(find_batch, checkout, first) is not None:
                return await resume_run(session, record.plan_file, first)
            return await run_plan(session, record.doc, record.plan_file, run_ids=record.run_ids)
        finally:
            unsubscribe()


def _merged(known: list[PullLink], found: list[PullLink]) -> list[PullLink]:
    by_run = {pull.run_id: pull for pull in known}
    by_run.update({pull.run_id: pull for pull in found})
    return list(by_run.values())
