"""The `orchestrate` command. Kept import-light so `--help` starts fast: SDKs load only when used."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrate.cli import options as opts
from orchestrate.cli.exit_codes import HELP as EXIT_HELP
from orchestrate.cli.exit_codes import Exit, exit_for
from orchestrate.cli.options import AgentsOpt, JsonOpt, RepoOpt
from orchestrate.exceptions import OrchestrateError

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    name="orchestrate",
    help="Cloud models plan and review; local models write the code.",
    epilog=EXIT_HELP,
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich's help formatting alone costs ~0.2 s of start-up.
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)
config_app = typer.Typer(
    help="Inspect and validate agent configuration.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)
app.add_typer(config_app, name="config")


def _version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        print(f"orchestrate {version('orchestrate')}")
        raise typer.Exit(Exit.OK)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    _: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    if debug:
        os.environ["ORCHESTRATE_DEBUG"] = "1"
    if ctx.invoked_subcommand is not None:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # The TUI needs a terminal; a pipe, a CI job or a script gets how to use it instead.
        print(ctx.get_help())
        print(
            "\nerror: no terminal to open the interactive app in: run a command "
            "(e.g. `orchestrate run plan.md`), or `orchestrate` in a terminal",
            file=sys.stderr,
        )
        raise typer.Exit(Exit.USAGE)
    from orchestrate.cli.tui_cmd import open_tui

    open_tui(Path("."))


@app.command()
def tui(agents: AgentsOpt = None, repo: RepoOpt = Path(".")) -> None:
    """Open the interactive app: write a task, approve the plan, watch the run, review the diff."""
    from orchestrate.cli.tui_cmd import open_tui

    open_tui(repo, agents)


@config_app.command("check")
def config_check(
    agents: AgentsOpt = None, repo: RepoOpt = Path("."), as_json: JsonOpt = False
) -> None:
    """Validate agent and provider YAML and print each agent's resolved fallback chain."""
    from orchestrate.cli.config_cmd import check

    check(repo, agents, as_json)


@app.command()
def doctor(agents: AgentsOpt = None, repo: RepoOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Check keys, endpoints, models and a warm-up call for every agent's chain.

    Exits 0 when every agent has a working model fit for its role, 1 when an agent has none,
    4 (degraded) when the planner or reviewer would only get a model unfit for it."""
    from orchestrate.cli.doctor_cmd import doctor as run_doctor

    raise typer.Exit(run_doctor(repo, agents, as_json))


@app.command()
def cost(
    *,
    run: Annotated[str | None, typer.Option("--run", help="Only this run id.")] = None,
    as_json: JsonOpt = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown (for a job summary).")
    ] = False,
    ledger: Annotated[
        list[Path] | None,
        typer.Option("--ledger", help="Ledger file; repeat it to report several together."),
    ] = None,
    agents: AgentsOpt = None,
    repo: RepoOpt = Path("."),
) -> None:
    """Spend by agent and model, and savings against sending everything to the cloud.

    Prices and the reference model come from the same config as the runs (pass the same
    --agents) so the savings agree with the run report."""
    from orchestrate.cli.cost_cmd import cost as show_cost

    show_cost(repo, run, as_json, ledger, markdown=markdown, agents=agents)


@app.command("merge-reports")
def merge_reports(
    reports: Annotated[
        list[Path], typer.Argument(help="report.json files of `orchestrate run --repos --json`.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of Markdown.")
    ] = False,
) -> None:
    """One report with a row per repository from several runs' reports (a workflow matrix)."""
    from orchestrate.cli.merge_cmd import merge_reports as merge

    merge(reports, as_json)


@app.command()
def trust(
    repo: RepoOpt = Path("."),
    drop: Annotated[
        bool,
        typer.Option("--forget", help="Stop trusting this repository's agents/ and AGENTS.md."),
    ] = False,
) -> None:
    """Trust this repository's own agents/ and AGENTS.md files as they are now: its endpoints'
    base_url, api_key_env and tier, its privacy and checks settings, are used, its AGENTS.md
    files are instructions and the checks they name yours (asked again whenever they change)."""
    from orchestrate.cli.trust_cmd import trust_repo

    trust_repo(repo, drop)


@app.command()
def prune(repo: RepoOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Remove finished runs' worktrees and saved progress; branches and unfinished runs stay."""
    from orchestrate.cli.prune_cmd import prune as run_prune

    run_prune(repo, as_json)


@app.command()
def run(
    plan: opts.PlanArg = None,
    *,
    dry_run: opts.DryRun = False,
    budget: opts.Budget = None,
    local_only: opts.LocalOnly = False,
    concurrency: opts.Concurrency = 4,
    replans: opts.Replans = 1,
    agents: AgentsOpt = None,
    repo: RepoOpt = Path("."),
    ledger: opts.LedgerFile = None,
    report: opts.ReportFile = None,
    as_json: opts.ReportJson = False,
    log: opts.LogFile = None,
    resume: opts.Resume = None,
    accept_unchecked: opts.AcceptUnchecked = False,
    repos: opts.Repos = None,
    max_repos: opts.MaxRepos = 2,
    open_prs: opts.OpenPrs = False,
    saved: opts.SavedPlans = None,
    always_plan: opts.AlwaysPlan = False,
    full_review: opts.FullReview = False,
    trust_model_checks: opts.TrustModelChecks = False,
    cloud_batch: opts.CloudBatch = False,
    trust_repo_config: opts.TrustRepoConfig = False,
    allow_sensitive_changes: opts.AllowSensitiveChanges = False,
) -> None:
    """Run every task of a plan.md: plan, delegate, check and review, each on its own branch."""
    from orchestrate.cli.run_cmd import RunArgs
    from orchestrate.cli.run_cmd import run as run_plan

    args = RunArgs(
        plan=plan,
        repo=repo,
        agents=agents,
        ledger=ledger,
        budget=budget,
        local_only=local_only,
        accept_unchecked=accept_unchecked,
        concurrency=concurrency,
        replans=replans,
        dry_run=dry_run,
        report=report,
        as_json=as_json,
        log=log,
        resume=resume,
        repos=repos,
        max_repos=max_repos,
        open_prs=open_prs,
        saved=saved,
        trust_model_checks=trust_model_checks,
        cloud_batch=cloud_batch,
        trust_repo_config=trust_repo_config,
        allow_sensitive_changes=allow_sensitive_changes,
        always_plan=always_plan,
        full_review=full_review,
    )
    raise typer.Exit(run_plan(args))


@app.command("review-pr")
def review_pr(
    *,
    repo: opts.GithubRepo = None,
    pr: opts.PullNumber = None,
    agents: AgentsOpt = None,
    max_files: opts.MaxFiles = None,
    max_cloud_tokens: opts.MaxCloudTokens = None,
    max_comments: opts.MaxComments = None,
    budget: opts.Budget = None,
    triage_model: opts.TriageModel = None,
    routine_model: opts.RoutineModel = None,
    deep_model: opts.DeepModel = None,
    fail_on_missing_key: opts.FailOnMissingKey = False,
    local_only: opts.LocalOnly = False,
    dry_run: opts.PrintReview = False,
    bot_login: opts.BotLogin = None,
) -> None:
    """Review a pull request: one review (never an approval) and a sticky summary."""
    from orchestrate.cli.review_pr_cmd import ReviewPrOptions
    from orchestrate.cli.review_pr_cmd import review_pr as run_review
    from orchestrate.review.pipeline_config import StepKind

    models: dict[StepKind, str | None] = {
        "triage": triage_model,
        "routine": routine_model,
        "deep": deep_model,
    }
    options = ReviewPrOptions(
        repo=repo,
        pr=pr,
        agents=agents,
        max_files=max_files,
        max_cloud_tokens=max_cloud_tokens,
        max_comments=max_comments,
        budget=budget,
        step_models={kind: ref for kind, ref in models.items() if ref},
        fail_on_missing_key=fail_on_missing_key,
        local_only=local_only,
        dry_run=dry_run,
        bot_login=bot_login,
    )
    raise typer.Exit(run_review(options))


def main() -> None:
    """Entry point: one clear line and an exit status (see `exit_codes`) for our errors;
    tracebacks only with --debug."""
    try:
        app()
    except OrchestrateError as error:
        if os.environ.get("ORCHESTRATE_DEBUG"):
            raise
        _say_error(str(error))
        sys.exit(exit_for(error))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(Exit.INTERRUPTED)
    except Exception as error:  # the last boundary: a bug still gets one line, not a traceback
        if os.environ.get("ORCHESTRATE_DEBUG"):
            raise
        _say_error(_one_line(error))
        sys.exit(Exit.FAILED)


def _say_error(line: str) -> None:
    """`error: ...` on stderr, our keys masked (an error can quote what held one)."""
    from orchestrate.privacy.masking import mask_keys  # loads pydantic: only when something failed

    print(mask_keys(f"error: {line}"), file=sys.stderr)


def _one_line(error: Exception) -> str:
    """A full disk, a read-only file or a git lock says so and what to do; anything else is a
    bug and says that."""
    from orchestrate.os_errors import storage_error  # imports git: only when something failed

    storage = storage_error(error)
    if storage is not None:
        return str(storage)
    first = (str(error).splitlines() or [""])[0]
    return (
        f"unexpected {type(error).__name__}: {first} "
        "(a bug in orchestrate: rerun with --debug and report the traceback)"
    )
