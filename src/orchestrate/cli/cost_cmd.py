"""`orchestrate cost`: spend by agent and model, and savings against the all-cloud case."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from orchestrate.config.loader import load_config
from orchestrate.exceptions import LedgerMissingError, NoAttemptsError
from orchestrate.ledger.edit_replies import EditReplies
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.report import (
    CostReport,
    render_edit_replies,
    render_json,
    render_table,
)
from orchestrate.ledger.report_markdown import render_cost_markdown
from orchestrate.ledger.store import AttemptRecord, Ledger, default_ledger_path


def _read(paths: list[Path], run: str | None) -> tuple[list[AttemptRecord], list[EditReplies]]:
    """Every attempt (of `run`, if given) and edit-reply count in the ledgers, in order."""
    attempts: list[AttemptRecord] = []
    counts: dict[tuple[str, str], EditReplies] = {}
    for path in paths:
        if not path.is_file():
            raise LedgerMissingError(f"no runs recorded yet: no ledger at {path}")
        with Ledger(path) as book:
            attempts += book.attempts(run)
            for row in book.edit_replies():
                seen = counts.get((row.model, row.edit_format))
                counts[(row.model, row.edit_format)] = (
                    row
                    if seen is None
                    else seen.model_copy(
                        update={
                            "well_formed": seen.well_formed + row.well_formed,
                            "malformed": seen.malformed + row.malformed,
                        }
                    )
                )
    return attempts, list(counts.values())


def cost(
    repo: Path,
    run: str | None,
    as_json: bool,
    ledgers: list[Path] | None,
    markdown: bool = False,
) -> None:
    """Print the cost report of one run, or of every run, in one ledger or several together
    (the ledgers of a `--repos` run's repositories, or of a workflow's matrix jobs)."""
    paths = ledgers or [default_ledger_path(repo)]
    attempts, edit_replies = _read(paths, run)
    if run is not None and not attempts:
        where = ", ".join(str(path) for path in paths)
        raise NoAttemptsError(
            f"no attempts recorded for run {run!r} in {where}; omit --run to see every run"
        )
    report = CostReport.from_attempts(
        attempts, _pricer(repo), run_id=run, edit_replies=edit_replies
    )
    if as_json:
        print(render_json(report))
        return
    if markdown:
        title = f"Cost of run {run}" if run else f"Cost of every run in {len(paths)} ledger(s)"
        print(render_cost_markdown(report, title), end="")
        return
    console = Console()
    console.print(render_table(report))
    formats = render_edit_replies(report)
    if formats is not None:
        console.print(formats)


def _pricer(repo: Path) -> Pricer:
    """Prices and the reference model from the repo's config (defaults plus its own agents/)."""
    return Pricer.from_config(load_config(repo))
