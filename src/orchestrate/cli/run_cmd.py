"""`orchestrate run plan.md`: every task through the engine, watched live, then a report.

Exit status: 0 when every task was approved (or planned, with --dry-run), 1 when some were not;
errors raise `OrchestrateError`, which `main` turns into one `error:` line and the status
`exit_codes.exit_for` gives it (2 for bad input, 3 for what could not be done now).
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from orchestrate.batching.queue import batch_queue
from orchestrate.cli.event_log import JsonLog
from orchestrate.cli.preflight import Route, announce, preflight
from orchestrate.cli.progress import make_progress
from orchestrate.engine.batch import resume_holder_error, resume_run, run_plan, run_saved
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import EngineOptions
from orchestrate.engine.plan import AGENT_FOR_KIND
from orchestrate.engine.plan_md import PlanDoc, load_plan
from orchestrate.engine.report import BatchReport, render_json
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.engine.saved_plans import SavedPlans, load_plans
from orchestrate.engine.sensitive_changes import BatchChangePolicy
from orchestrate.engine.session import Session
from orchestrate.exceptions import ConfigError, NoModelAvailableError
from orchestrate.ledger.money import usd_limit


@dataclass(frozen=True)
class RunArgs:
    """The command line, as typer parsed it."""

    plan: Path | None
    """plan.md; None with --resume (the plan's tasks were saved when it started)."""
    repo: Path
    agents: Path | None = None
    ledger: Path | None = None
    budget: float | None = None
    local_only: bool = False
    accept_unchecked: bool = False
    concurrency: int = 4
    replans: int = 1
    dry_run: bool = False
    report: Path | None = None
    as_json: bool = False
    log: Path | None = None
    resume: str | None = None
    repos: Path | None = None
    max_repos: int = 2
    open_prs: bool = False
    saved: Path | None = None
    """`--plan FILE`: with --dry-run, where to save the plans; without, the plans to carry out."""
    trust_model_checks: bool = False
    cloud_batch: bool = False
    trust_repo_config: bool = False
    allow_sensitive_changes: bool = False
    always_plan: bool = False
    """Ask the planner even for tasks that name their files and checks."""
    full_review: bool = False
    """Every review by the full reviewer (no quick review)."""


def _check_sources(args: RunArgs) -> None:
    """Exactly one of plan.md, `--plan FILE` (without --dry-run) or `--resume` says what to do."""
    if args.resume is not None and (args.dry_run or args.saved is not None):
        raise ConfigError("--resume finishes a run: drop --dry-run and --plan")
    if args.dry_run and args.plan is None:
        raise ConfigError("--dry-run plans a plan.md: give its path")
    if not args.dry_run and args.plan is not None and args.saved is not None:
        raise ConfigError(
            "give plan.md or --plan FILE, not both (--plan FILE with plan.md needs --dry-run, "
            "which writes FILE)"
        )
    if args.plan is None and args.saved is None and args.resume is None:
        raise ConfigError("give a plan.md to run (or --plan FILE a dry run saved, or --resume ID)")
    if args.repos is not None and (args.plan is None or args.saved is not None):
        raise ConfigError("--repos runs a plan.md in each repository: give its path, not --plan")


def _check(args: RunArgs) -> None:
    _check_sources(args)
    if args.trust_repo_config and args.repos is None:
        raise ConfigError(
            "--trust-repo-config goes with --repos; to trust this repository's agents/, read it "
            "and run `orchestrate trust`"
        )
    if args.concurrency < 1:
        raise ConfigError(f"--concurrency must be 1 or more, not {args.concurrency}")
    if args.cloud_batch and args.local_only:
        raise ConfigError("--cloud-batch sends calls to cloud models: drop it or --local-only")
    if args.replans < 0:
        raise ConfigError(f"--replans must be 0 or more, not {args.replans}")
    if args.budget is not None and args.budget < 0:
        raise ConfigError(f"--budget must be a non-negative USD amount, not {args.budget}")
    for option, path in (("--report", args.report), ("--log", args.log)):
        if path is not None and not path.parent.is_dir():
            raise ConfigError(f"{option}: folder {path.parent} does not exist (create it first)")


def require_models(routes: list[Route], doc: PlanDoc | None) -> None:
    """Stop before branching when a task needs a planner and none is usable. A task that names
    its files runs as written without one; with no reviewer, the task's checks decide. A resumed
    run (no plan document read) needs no planner check here."""
    unplanned = [task.title for task in doc.tasks if not task.files] if doc is not None else []
    for route in routes:
        if route.agent == "planner" and route.model is None and unplanned:
            raise NoModelAvailableError(
                f"agent 'planner' has no usable model ({route.describe()}) and task "
                f"{unplanned[0]!r} names no files to run as written; set a key, start a local "
                "server, add a `files:` line to the task, or run `orchestrate doctor`"
            )


async def _run(
    session: Session, doc: PlanDoc | SavedPlans | None, args: RunArgs, console: Console
) -> BatchReport:
    names = ("planner", "reviewer", *AGENT_FOR_KIND.values())
    routes = await preflight(session.config, local_only=args.local_only, names=names)
    for line in announce(routes):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    # Saved plans need no planner: they are carried out as planned.
    require_models(routes, doc if isinstance(doc, PlanDoc) else None)
    progress = make_progress(console, live=console.is_terminal and sys.stdout.isatty())
    async with AsyncExitStack() as stack:
        if args.cloud_batch:
            session.batch = batch_queue(session.config.cloud_batch)
            stack.push_async_callback(session.batch.aclose)
        for listener in (progress, *([JsonLog(args.log)] if args.log else [])):
            stack.enter_context(listener)
            stack.callback(session.events.subscribe(listener))
        if args.resume is not None:
            source = str(args.plan) if args.plan is not None else f"run {args.resume}"
            return await resume_run(session, source, args.resume, on_task=progress.begin_task)
        if isinstance(doc, SavedPlans):
            return await run_saved(session, doc, str(args.saved), on_task=progress.begin_task)
        assert doc is not None  # _check_sources
        return await run_plan(
            session,
            doc,
            str(args.plan),
            dry_run=args.dry_run,
            routes={route.agent: route.model for route in routes},
            on_task=progress.begin_task,
            save_to=args.saved,
        )


def _opening_line(session: Session, doc: PlanDoc | SavedPlans | None, args: RunArgs) -> str:
    where = f"repo {session.repo}; ledger {session.ledger.path}"
    caps = [f"{usd_limit(cap.limit_usd)} ({cap.label})" for cap in session.budget.caps]
    if caps:
        where += f"; cloud budget {', '.join(caps)}"
    if isinstance(doc, SavedPlans):
        return f"the plans saved in {args.saved}, exactly as planned; {where}"
    if doc is None:
        return f"resuming the plan of run {args.resume}; {where}"
    return f"{len(doc.tasks)} task(s) from {args.plan}; {where}"


def _run_repos(args: RunArgs, options: EngineOptions) -> int:
    """`--repos`: the plan in every listed repository, one report."""
    from orchestrate.cli.repos_cmd import github_access, render, run_repos
    from orchestrate.fleet.options import FleetOptions

    assert args.repos is not None  # the caller's condition
    assert args.plan is not None  # _check_sources
    if args.log is not None:
        raise ConfigError("--log records one repository's events; drop it with --repos")
    fleet = FleetOptions(
        engine=options,
        max_repos=args.max_repos,
        agents=args.agents,
        ledger=args.ledger,
        budget=args.budget,
        dry_run=args.dry_run,
        github=github_access(os.environ),
        trust_model_checks=args.trust_model_checks,
        cloud_batch=args.cloud_batch,
        trust_repo_config=args.trust_repo_config,
        allow_sensitive_changes=args.allow_sensitive_changes,
    )
    report = run_repos(
        args.plan,
        args.repos,
        fleet,
        open_prs=args.open_prs,
        resume=args.resume,
        local_only=args.local_only,
    )
    printed, markdown = render(report, args.as_json)
    print(printed)
    _write_report(args.report, markdown)
    return 0 if report.ok else 1


def _write_report(path: Path | None, markdown: str) -> None:
    if path is None:
        return
    try:
        path.write_text(markdown, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"--report: cannot write {path} ({error.strerror})") from None


def _what_to_run(args: RunArgs) -> PlanDoc | SavedPlans | None:
    """plan.md's tasks, a dry run's saved plans, or nothing (a resume reads its own saved
    tasks, whatever the files say now; --repos reads the plan in each repository); read before
    anything starts, so errors come first."""
    if args.resume is not None or args.repos is not None:
        return None
    if args.plan is not None:
        return load_plan(args.plan)
    assert args.saved is not None  # _check_sources
    return load_plans(args.saved)


def run(args: RunArgs) -> int:
    """Run the plan; print the report; return the exit status."""
    _check(args)
    from orchestrate.cli.repos_cmd import check_repos_args

    check_repos_args(args.max_repos, args.open_prs, args.repos)
    doc = _what_to_run(args)
    options = EngineOptions(
        concurrency=args.concurrency,
        max_replans=args.replans,
        local_only=args.local_only,
        accept_unchecked=args.accept_unchecked,
        always_plan=args.always_plan,
        full_review=args.full_review,
    )
    if args.repos is not None:
        return _run_repos(args, options)
    console = Console(stderr=True, highlight=False)
    with Session.open(
        args.repo,
        agents_dir=args.agents,
        ledger_path=args.ledger,
        budget_usd=args.budget,
        options=options,
    ) as session:
        busy = None if args.resume is None else resume_holder_error(session, args.resume)
        if busy is not None:
            raise busy
        # The batch policy: a model's command runs with the flag, or on the user's allow-list.
        session.approve = BatchPolicy(session.config.checks.allow, args.trust_model_checks)
        session.approve_changes = BatchChangePolicy(args.allow_sensitive_changes)
        console.print(_opening_line(session, doc, args), markup=False, soft_wrap=True)
        report = asyncio.run(_run(session, doc, args, console))
    markdown = render_markdown(report)  # masked: reports quote errors that can echo a key
    print(render_json(report) if args.as_json else markdown.rstrip("\n"))
    _write_report(args.report, markdown)
    return 0 if report.ok else 1
