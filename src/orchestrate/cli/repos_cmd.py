"""`orchestrate run plan.md --repos repos.txt`: the plan in every listed repository, a few at a
time, one report with a row per repository; `--resume ID` carries the whole run on.

Exit status as for one repository: 0 when every repository was approved (or planned), 1 when
some were not; usage errors raise `OrchestrateError` (one `error:` line, status 2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from orchestrate.cli.preflight import announce, preflight
from orchestrate.cli.progress import describe
from orchestrate.cli.run_cmd import require_models
from orchestrate.engine.plan import AGENT_FOR_KIND
from orchestrate.engine.plan_md import PlanDoc, load_plan
from orchestrate.engine.run_lock import locked_error
from orchestrate.engine.session import Session, new_run_id
from orchestrate.events import Event
from orchestrate.exceptions import ConfigError
from orchestrate.fleet.checkout import GitHubAccess
from orchestrate.fleet.options import FleetHooks, FleetOptions
from orchestrate.fleet.record import (
    FleetRecord,
    FleetRepo,
    fleet_holder,
    fleet_lock,
    load_fleet,
    save_fleet,
)
from orchestrate.fleet.report import FleetReport, render_fleet_json, render_fleet_markdown
from orchestrate.fleet.repos_file import read_repos
from orchestrate.fleet.runner import run_fleet
from orchestrate.github.repository import DEFAULT_API_URL


class _Printer(FleetHooks):
    """One plain line per event worth a line, each naming its repository."""

    def __init__(self, console: Console, local_only: bool) -> None:
        self.console = console
        self.local_only = local_only

    def line(self, repo: str, text: str) -> None:
        self.console.print(f"[{repo}] {text}", markup=False, highlight=False, soft_wrap=True)

    def event(self, repo: str, event: Event) -> None:
        text = describe(event)
        if text is not None:
            self.line(repo, text)

    async def routes(self, repo: str, session: Session, doc: PlanDoc) -> Mapping[str, str | None]:
        names = ("planner", "reviewer", *AGENT_FOR_KIND.values())
        found = await preflight(session.config, local_only=self.local_only, names=names)
        for text in announce(found):
            self.line(repo, text)
        require_models(found, doc)
        return {route.agent: route.model for route in found}


def _new_record(plan: Path, repos: Path, open_prs: bool, dry_run: bool) -> FleetRecord:
    doc = load_plan(plan)
    specs = read_repos(repos)
    run_ids = [new_run_id(task.title, index) for index, task in enumerate(doc.tasks, start=1)]
    fleet_id = ("dry-" if dry_run else "") + run_ids[0]
    return FleetRecord(
        fleet_id=fleet_id,
        plan_file=str(plan),
        doc=doc,
        run_ids=run_ids,
        repos=[FleetRepo(spec=spec) for spec in specs],
        open_prs=open_prs,
    )


def github_access(env: Mapping[str, str]) -> GitHubAccess:
    """API root and token from the variables Actions sets (and a user may)."""
    return GitHubAccess(
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        token=env.get("GITHUB_TOKEN") or None,
    )


def run_repos(
    plan: Path,
    repos: Path,
    options: FleetOptions,
    *,
    open_prs: bool,
    resume: str | None,
    local_only: bool,
) -> FleetReport:
    """Start (or with `resume`, carry on) a `--repos` run; returns its report."""
    if resume is not None:
        record = load_fleet(resume)
        holder = fleet_holder(record.fleet_id)
        if holder is not None:
            raise locked_error(f"--repos run {record.fleet_id}", holder)
    else:
        record = _new_record(plan, repos, open_prs, options.dry_run)
    console = Console(stderr=True, highlight=False)
    verb = "resuming" if resume else "running"
    console.print(
        f"{verb} {len(record.doc.tasks)} task(s) from {record.plan_file} in "
        f"{len(record.repos)} repositories, {options.max_repos} at a time; "
        f"id {record.fleet_id}",
        markup=False,
        soft_wrap=True,
    )
    printer = _Printer(console, local_only)
    with ExitStack() as stack:
        if not options.dry_run:
            stack.enter_context(fleet_lock(record.fleet_id).held())
            save_fleet(record)
        return asyncio.run(run_fleet(record, options, printer, resuming=resume is not None))


def check_repos_args(max_repos: int, open_prs: bool, repos: Path | None) -> None:
    """One line for options that do not go together."""
    if open_prs and repos is None:
        raise ConfigError(
            "--open-prs works with --repos: list this repository alone (`echo . > repos.txt`) "
            "and pass --repos repos.txt"
        )
    if max_repos < 1:
        raise ConfigError(f"--max-repos must be 1 or more, not {max_repos}")


def render(report: FleetReport, as_json: bool) -> tuple[str, str]:
    """(what is printed, the Markdown for --report)."""
    markdown = render_fleet_markdown(report)
    return (render_fleet_json(report) if as_json else markdown.rstrip("\n")), markdown
