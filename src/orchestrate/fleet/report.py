"""The report of a `--repos` run: one row per repository (status, branch, cost, pull request),
the totals over all of them, and each repository's own batch report below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from orchestrate.engine.report import BatchReport
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.fleet.record import PullLink
from orchestrate.ledger.report import CostTotals
from orchestrate.privacy.masking import mask_keys

RepoStatus = Literal["approved", "changes_requested", "unchecked", "failed", "planned"]


class RepoRow(BaseModel):
    """One repository's outcome."""

    repo: str
    """As `repos.txt` names it."""
    status: RepoStatus
    """`approved` when every task was; otherwise the first task's that was not (`failed` when
    the repository could not be worked on at all)."""
    branches: list[str] = []
    """The task branches made there, in plan order."""
    cost: CostTotals
    """What its runs spent and saved."""
    pulls: list[PullLink] = []
    """Pull requests opened for its approved branches."""
    detail: str = ""
    """Why it is not approved, or what went wrong with its pull requests, in one line."""
    report: BatchReport | None = None
    """Its own batch report (None when no run could start there)."""


class FleetReport(BaseModel):
    """What `orchestrate run --repos` prints at the end."""

    fleet_id: str
    """The id `--resume` takes; empty for reports merged from several runs."""
    plan_file: str
    """The plan that was run everywhere."""
    dry_run: bool
    """Plans only."""
    rows: list[RepoRow]
    """In `repos.txt` order."""
    cost: CostTotals
    """Summed over every repository."""

    @property
    def ok(self) -> bool:
        """Every repository approved (or planned, in a dry run)."""
        good = "planned" if self.dry_run else "approved"
        return all(row.status == good for row in self.rows)


ZERO = CostTotals(
    cloud_usd=0.0,
    local_usd=0.0,
    local_tokens=0,
    counterfactual_usd=0.0,
    savings_usd=0.0,
    savings_pct=0.0,
)


def sum_costs(costs: Sequence[CostTotals]) -> CostTotals:
    """Totals over several reports; the savings share is taken of the summed counterfactual."""
    counterfactual = sum(c.counterfactual_usd for c in costs)
    savings = sum(c.savings_usd for c in costs)
    return CostTotals(
        cloud_usd=sum(c.cloud_usd for c in costs),
        local_usd=sum(c.local_usd for c in costs),
        local_tokens=sum(c.local_tokens for c in costs),
        counterfactual_usd=counterfactual,
        savings_usd=savings,
        savings_pct=100 * savings / counterfactual if counterfactual else 0.0,
    )


def repo_row(repo: str, report: BatchReport, pulls: list[PullLink], detail: str) -> RepoRow:
    """A repository whose plan ran: its status from its tasks'."""
    good = "planned" if report.dry_run else "approved"
    worst = next((task for task in report.tasks if task.status != good), None)
    return RepoRow(
        repo=repo,
        status=good if worst is None else worst.status,
        branches=[task.branch for task in report.tasks if task.branch],
        cost=report.totals.cost,
        pulls=pulls,
        detail=detail or ("" if worst is None else f"{worst.task}: {worst.detail}"),
        report=report,
    )


def failed_row(repo: str, detail: str) -> RepoRow:
    """A repository no run could start in (clone failed, not a git checkout, locked...)."""
    return RepoRow(repo=repo, status="failed", cost=ZERO, detail=detail)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") or "—"


def _row(row: RepoRow) -> str:
    pulls = ", ".join(f"[#{pull.number}]({pull.url})" for pull in row.pulls)
    cells = [
        row.repo,
        row.status,
        ", ".join(f"`{branch}`" for branch in row.branches),
        f"${row.cost.cloud_usd:.4f}",
        f"{row.cost.local_tokens:,}",
        f"${row.cost.savings_usd:.4f}",
        pulls,
        row.detail,
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def render_fleet_markdown(report: FleetReport) -> str:
    """The table of repositories, the totals, then each repository's own report; masked."""
    kind = "dry run" if report.dry_run else "run"
    good = sum(row.status == ("planned" if report.dry_run else "approved") for row in report.rows)
    cost = report.cost
    resume = (
        [f"- resume with: `orchestrate run {report.plan_file} --repos ... --resume "
         f"{report.fleet_id}`"]
        if report.fleet_id
        else []
    )  # fmt: skip
    lines = [
        f"# orchestrate {kind} over {len(report.rows)} repositories: {report.plan_file}",
        "",
        *resume,
        f"- repositories {'planned' if report.dry_run else 'approved'}: {good} of "
        f"{len(report.rows)}",
        f"- cloud ${cost.cloud_usd:.4f} · local tokens {cost.local_tokens:,} · all-cloud "
        f"${cost.counterfactual_usd:.4f} · saved ${cost.savings_usd:.4f} "
        f"({cost.savings_pct:.0f}%)",
        "",
        "| repository | status | branch | cloud | local tokens | saved | pull request | detail |",
        "|---|---|---|---|---|---|---|---|",
        *(_row(row) for row in report.rows),
    ]
    for row in report.rows:
        if row.report is not None:
            lines += ["", f"## {row.repo}", "", *_nested(render_markdown(row.report))]
    return mask_keys("\n".join(lines) + "\n")


def _nested(markdown: str) -> list[str]:
    """A repository's own report under its heading: its title dropped, its headings one deeper."""
    own = markdown.rstrip("\n").split("\n")[1:]
    return [f"#{line}" if line.startswith("#") else line for line in own]


def render_fleet_json(report: FleetReport) -> str:
    """The report as indented JSON, masked."""
    return mask_keys(report.model_dump_json(indent=2))


def merge_fleet_reports(reports: Sequence[FleetReport]) -> FleetReport:
    """One report from several runs' (a workflow's matrix jobs, one repository each): every
    row, in the order given, and the costs summed."""
    rows = [row for report in reports for row in report.rows]
    plans = sorted({report.plan_file for report in reports})
    return FleetReport(
        fleet_id="",
        plan_file=", ".join(plans),
        dry_run=all(report.dry_run for report in reports),
        rows=rows,
        cost=sum_costs([row.cost for row in rows]),
    )
