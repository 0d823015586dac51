"""`orchestrate cost`: spend by agent and model, and savings against the all-cloud case.

Prices and the reference model come from the same layered config as the runs (`--agents`
included), so the savings here are the run report's.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from orchestrate.cli.tables import Listing, show
from orchestrate.config.loader import load_config
from orchestrate.exceptions import LedgerMissingError, NoAttemptsError
from orchestrate.ledger.edit_replies import EditReplies
from orchestrate.ledger.money import usd
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.report import CostReport, render_json
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
    *,
    markdown: bool = False,
    agents: Path | None = None,
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
    pricer = Pricer.from_config(load_config(repo, agents))
    report = CostReport.from_attempts(attempts, pricer, run_id=run, edit_replies=edit_replies)
    if as_json:
        print(render_json(report))
        return
    if markdown:
        title = f"Cost of run {run}" if run else f"Cost of every run in {len(paths)} ledger(s)"
        print(render_cost_markdown(report, title), end="")
        return
    console = Console(highlight=False)
    show(console, cost_listing(report))
    if report.edit_replies:
        show(console, edit_replies_listing(report))


def cost_listing(report: CostReport) -> Listing:
    """Spend per agent and model, totals last and the counterfactual in the caption."""
    numeric = ["calls", "failed", "input", "output", "cache r/w", "cost"]
    listing = Listing(
        headers=["agent", "model", "tier", *numeric],
        title=f"Cost of run {report.run_id}" if report.run_id else "Cost of all runs",
        numeric=set(numeric),
        caption=f"All-cloud counterfactual: {report.counterfactual_note}",
    )
    for row in report.rows:
        listing.add(*row.counts(), usd(row.cost_usd))
    t = report.totals
    listing.totals = [("cloud spend", usd(t.cloud_usd)), ("local tokens", f"{t.local_tokens:,}")]
    if t.replayed:
        listing.totals.append(("replayed, not sent", f"{t.replayed:,} answers"))
    if t.local_usd:
        listing.totals.append(("local spend", usd(t.local_usd)))
    listing.totals.append(("all-cloud", usd(t.counterfactual_usd)))
    listing.totals.append(("saved", f"{usd(t.savings_usd)} ({t.savings_pct:.1f}%)"))
    return listing


def edit_replies_listing(report: CostReport) -> Listing:
    """Each model's share of well-formed edit replies."""
    listing = Listing(
        headers=["model", "format", "well formed", "malformed", "share"],
        title="Edit replies by model (all runs)",
        numeric={"well formed", "malformed", "share"},
    )
    for row in report.edit_replies:
        listing.add(
            row.model, row.edit_format, str(row.well_formed), str(row.malformed), f"{row.share:.0%}"
        )
    return listing
