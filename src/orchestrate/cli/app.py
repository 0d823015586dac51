"""The `orchestrate` command. Kept import-light so `--help` starts fast: SDKs load only when used."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrate.exceptions import OrchestrateError

app = typer.Typer(
    name="orchestrate",
    help="Cloud models plan and review; local models write the code.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect and validate agent configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")

AgentsOpt = Annotated[
    Path | None,
    typer.Option("--agents", help="Directory of agent YAML overriding the defaults."),
]
RepoOpt = Annotated[Path, typer.Option("--repo", help="Repository to work in.")]


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    if debug:
        os.environ["ORCHESTRATE_DEBUG"] = "1"
    if ctx.invoked_subcommand is None:
        # The interactive TUI will open here; until it exists, say what there is.
        typer.echo(ctx.get_help())


@config_app.command("check")
def config_check(agents: AgentsOpt = None, repo: RepoOpt = Path(".")) -> None:
    """Validate agent and provider YAML and print each agent's resolved fallback chain."""
    from orchestrate.cli.config_cmd import check

    check(repo, agents)


@app.command()
def doctor(agents: AgentsOpt = None, repo: RepoOpt = Path(".")) -> None:
    """Check keys, endpoints, models and a warm-up call for every agent's chain."""
    from orchestrate.cli.doctor_cmd import doctor as run_doctor

    raise typer.Exit(run_doctor(repo, agents))


@app.command()
def cost(
    run: Annotated[str | None, typer.Option("--run", help="Only this run id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="Ledger file.")] = None,
    repo: RepoOpt = Path("."),
) -> None:
    """Spend by agent and model, and savings against sending everything to the cloud."""
    from orchestrate.cli.cost_cmd import cost as show_cost

    show_cost(repo, run, as_json, ledger)


def main() -> None:
    """Entry point: one clear line and exit code 2 for our errors; tracebacks only with --debug."""
    try:
        app()
    except OrchestrateError as error:
        if os.environ.get("ORCHESTRATE_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
