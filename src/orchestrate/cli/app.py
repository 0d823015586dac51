"""The `orchestrate` command. Kept import-light so `--help` starts fast: SDKs load only when used."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrate.cli.exit_codes import HELP as EXIT_HELP
from orchestrate.cli.exit_codes import Exit, exit_for
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

AgentsOpt = Annotated[
    Path | None,
    typer.Option("--agents", help="Directory of agent YAML overriding the defaults."),
]
RepoOpt = Annotated[Path, typer.Option("--repo", help="Repository to work in.")]


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


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
    plan: Annotated[
        Path | None,
        typer.Argument(
            help="plan.md: one task per '## ' heading or '- [ ]' item (not with --resume)."
        ),
    ] = None,
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and estimate the cost; edit nothing.")
    ] = False,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Most USD to spend on cloud models.")
    ] = None,
    local_only: Annotated[
        bool, typer.Option("--local-only", help="Send nothing to cloud models.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Subtasks worked on at once.")
    ] = 4,
    replans: Annotated[
        int,
        typer.Option(
            "--replans",
            help="Times the planner is asked about a subtask every worker model failed (0: never).",
        ),
    ] = 1,
    agents: AgentsOpt = None,
    repo: RepoOpt = Path("."),
    ledger: Annotated[Path | None, typer.Option("--ledger", help="Ledger file.")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the Markdown report here.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of Markdown.")
    ] = False,
    log: Annotated[
        Path | None, typer.Option("--log", help="Write every event to this JSON-lines file.")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume", help="Finish the stopped run with this id (and the rest of its plan)."
        ),
    ] = None,
    accept_unchecked: Annotated[
        bool,
        typer.Option(
            "--accept-unchecked",
            help="Approve a task with no check: lines on the reviewer's word alone.",
        ),
    ] = False,
    repos: Annotated[
        Path | None,
        typer.Option(
            "--repos", help="File listing repositories (folders or owner/name), one a line."
        ),
    ] = None,
    max_repos: Annotated[
        int, typer.Option("--max-repos", help="With --repos: repositories worked on at once.")
    ] = 2,
    open_prs: Annotated[
        bool,
        typer.Option(
            "--open-prs", help="With --repos: push approved branches and open pull requests."
        ),
    ] = False,
    saved: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="With --dry-run: save the plans here. Without: carry out exactly the plans "
            "a dry run saved here (no planner is asked).",
        ),
    ] = None,
    always_plan: Annotated[
        bool,
        typer.Option(
            "--always-plan",
            help="Ask the planner even for a task that names its files and checks (such a "
            "task otherwise runs as written, with no planner call).",
        ),
    ] = False,
    trust_model_checks: Annotated[
        bool,
        typer.Option(
            "--trust-model-checks",
            help="Run check commands the planner or reviewer wrote without asking (they still "
            "run sandboxed); without it only plan.md's check: lines and checks.allow run.",
        ),
    ] = False,
    cloud_batch: Annotated[
        bool,
        typer.Option(
            "--cloud-batch",
            help="Plans and reviews through the vendors' Batch APIs: half price, within 24 h.",
        ),
    ] = False,
    trust_repo_config: Annotated[
        bool,
        typer.Option(
            "--trust-repo-config",
            help="With --repos: each listed repository's own agents/ may say where keys go and "
            "what is private (as `orchestrate trust` would allow); only for repositories you "
            "control.",
        ),
    ] = False,
    allow_sensitive_changes: Annotated[
        bool,
        typer.Option(
            "--allow-sensitive-changes",
            help="Commit edits that add or change a CI workflow, a git hook or a CI file, or "
            "write one of our keys (they are flagged in the report either way); without it "
            "such an edit is not committed.",
        ),
    ] = False,
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
    )
    raise typer.Exit(run_plan(args))


@app.command("review-pr")
def review_pr(
    *,
    repo: Annotated[
        str | None,
        typer.Option("--repo", "--github-repo", help="owner/name; default GITHUB_REPOSITORY."),
    ] = None,
    pr: Annotated[
        int | None, typer.Option("--pr", help="PR number; default from GITHUB_EVENT_PATH.")
    ] = None,
    agents: AgentsOpt = None,
    max_files: Annotated[
        int | None,
        typer.Option("--max-files", min=1, help="Most files reviewed; the rest are listed."),
    ] = None,
    max_cloud_tokens: Annotated[
        int | None, typer.Option("--max-cloud-tokens", min=0, help="Most cloud tokens per review.")
    ] = None,
    max_comments: Annotated[
        int | None,
        typer.Option("--max-comments", min=0, help="Most inline comments; the rest in the body."),
    ] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Most USD to spend on cloud models.")
    ] = None,
    triage_model: Annotated[
        str | None, typer.Option("--triage-model", help="provider:model for the triage step.")
    ] = None,
    routine_model: Annotated[
        str | None, typer.Option("--routine-model", help="provider:model for routine review.")
    ] = None,
    deep_model: Annotated[
        str | None, typer.Option("--deep-model", help="provider:model for the deep review.")
    ] = None,
    fail_on_missing_key: Annotated[
        bool,
        typer.Option("--fail-on-missing-key", help="Fail instead of reviewing locally."),
    ] = False,
    local_only: Annotated[
        bool, typer.Option("--local-only", help="Send nothing to cloud models.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the review; post nothing.")
    ] = False,
    bot_login: Annotated[
        str | None,
        typer.Option("--bot-login", help="Login the token posts as; default: asked from GitHub."),
    ] = None,
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
