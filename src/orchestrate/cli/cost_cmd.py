"""`orchestrate cost`: spend by agent and model, and savings against the all-cloud case."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from orchestrate.config.loader import load_config
from orchestrate.exceptions import LedgerMissingError, NoAttemptsError
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.report import (
    CostReport,
    render_edit_replies,
    render_json,
    render_table,
)
from orchestrate.ledger.store import Ledger, default_ledger_path


def cost(repo: Path, run: str | None, as_json: bool, ledger: Path | None) -> None:
    """Print the cost report of one run, or of every run in the ledger."""
    path = ledger if ledger is not None else default_ledger_path(repo)
    if not path.is_file():
        raise LedgerMissingError(f"no runs recorded yet: no ledger at {path}")
    pricer = _pricer(repo)
    with Ledger(path) as book:
        attempts, edit_replies = book.attempts(run), book.edit_replies()
    if run is not None and not attempts:
        raise NoAttemptsError(
            f"no attempts recorded for run {run!r} in {path}; omit --run to see every run"
        )
    report = CostReport.from_attempts(attempts, pricer, run_id=run, edit_replies=edit_replies)
    if as_json:
        print(render_json(report))
        return
    console = Console()
    console.print(render_table(report))
    formats = render_edit_replies(report)
    if formats is not None:
        console.print(formats)


def _pricer(repo: Path) -> Pricer:
    """Prices and the reference model from the repo's config (defaults plus its own agents/)."""
    return Pricer.from_config(load_config(repo))
