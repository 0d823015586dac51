"""The batch report as Markdown: readable in a terminal, pasteable into an issue or a PR.

It quotes model errors, check output and review text, any of which can echo one of our keys:
the rendered text is masked before anyone sees it.
"""

from __future__ import annotations

from orchestrate.engine.commands import CommandRecord
from orchestrate.engine.report import BatchReport, SubtaskLine, TaskReport
from orchestrate.ledger.report import CostTotals
from orchestrate.privacy.masking import mask_keys

_STATUS_WORDS = {
    "approved": "approved",
    "changes_requested": "NOT approved (changes requested)",
    "unchecked": "NOT approved (no checks ran; add a `check:` line or pass --accept-unchecked)",
    "failed": "FAILED",
    "planned": "planned",
}
_SHA = 10


def _cell(text: str | None) -> str:
    """Table-safe text: one line, pipes escaped."""
    return " ".join((text or "").split()).replace("|", "\\|") or "—"


def _money(value: float) -> str:
    return f"${value:.4f}"


def _cost_line(cost: CostTotals) -> str:
    return (
        f"cloud {_money(cost.cloud_usd)} · local tokens {cost.local_tokens:,} · "
        f"all-cloud {_money(cost.counterfactual_usd)} · "
        f"saved {_money(cost.savings_usd)} ({cost.savings_pct:.0f}%)"
    )


def _subtask_row(line: SubtaskLine) -> str:
    sources = [move.split(" -> ")[0] for move in line.escalations]
    moves = f" (escalated from {', '.join(sources)})" if sources else ""
    cells = [
        line.id,
        line.agent,
        f"{line.model or '—'}{moves}",
        line.status,
        str(line.rounds),
        (line.commit or "")[:_SHA],
        line.detail,
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _run_section(task: TaskReport) -> list[str]:
    commits = f"{len(task.commits)} commit{'s' if len(task.commits) != 1 else ''}"
    lines = [f"- branch: `{task.branch}` ({commits}); worktree: `{task.worktree}`"]
    if task.review_verdict:
        lines.append(f"- review: **{task.review_verdict}**: {_cell(task.review_summary)}")
        if task.reviewed_by:
            lines.append(f"- reviewed by: {_cell(task.reviewed_by)}")
    else:
        lines.append("- review: none")
    for check in task.task_checks:
        verdict = "passes" if check.ok else f"FAILS (exit {check.exit_code})"
        lines.append(f"- check `{check.command}`: {verdict}")
    if not task.task_checks:
        lines.append("- checks: none ran")
    lines += [f"- outcome: {_cell(task.detail)}", f"- cost: {_cost_line(task.cost)}"]
    if task.budget_note:
        lines.append(f"- budget: {_cell(task.budget_note)}")
    lines += [f"- degraded: {_cell(line)}" for line in task.degraded]
    lines += [f"- not shown to a model: {_cell(note)}" for note in task.omissions]
    lines += [f"- flagged: {_cell(line)}" for line in task.flagged]
    lines += [f"- re-planned {s.id}: {_cell(line)}" for s in task.subtasks for line in s.replans]
    if task.subtasks:
        lines += [
            "",
            "| subtask | agent | model | status | rounds | commit | detail |",
            "|---|---|---|---|---|---|---|",
            *(_subtask_row(line) for line in task.subtasks),
        ]
    return lines + _commands(task.commands, ran=True)


def _commands(records: list[CommandRecord], ran: bool) -> list[str]:
    """Every command whole, whose it is and who let it run (or why it may not)."""
    if not records:
        return []
    head = (
        "| command | proposed by | approved by | runs (failed) |"
        if ran
        else ("| command | proposed by | would run |")
    )
    lines = ["", head, "|---|---|---|---|" if ran else "|---|---|---|"]
    for record in records:
        allowed = record.approved_by or f"NOT run: {record.refusal}"
        cells = [f"`{record.command}`", f"{record.proposed_by} ({record.where})", allowed]
        if ran:
            cells.append(f"{record.runs} ({record.failures})")
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def _dry_section(task: TaskReport) -> list[str]:
    lines: list[str] = []
    if task.plan is None:
        return [f"- {_cell(task.detail)}", f"- planning cost: {_cost_line(task.cost)}"]
    if task.plan.summary:
        lines.append(f"- approach: {_cell(task.plan.summary)}")
    lines.append(f"- planning cost: {_cost_line(task.cost)}")
    if task.estimate is not None:
        est = task.estimate
        lines.append(
            f"- estimated run: cloud {_money(est.cloud_usd)} · local tokens "
            f"{est.local_tokens:,} · all-cloud {_money(est.counterfactual_usd)} "
            f"({est.assumptions})"
        )
    lines += ["", "| subtask | kind | agent | edits | checks |", "|---|---|---|---|---|"]
    for sub in task.plan.subtasks:
        cells = [sub.id, sub.kind, sub.agent, ", ".join(sub.edit_files), "; ".join(sub.checks)]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines + _commands(task.commands, ran=False)


def _totals(report: BatchReport) -> list[str]:
    totals = report.totals
    word = "planned" if report.dry_run else "approved"
    lines = [
        "## Totals",
        "",
        f"- tasks: {totals.tasks}, {word}: {totals.approved}",
        f"- {'planning ' if report.dry_run else ''}cost: {_cost_line(totals.cost)}",
    ]
    if totals.estimated_cloud_usd is not None:
        lines.append(
            f"- estimated cloud cost of running every plan: {_money(totals.estimated_cloud_usd)}"
        )
    lines.append(f"- all-cloud counterfactual: {report.counterfactual_note}")
    if report.saved_plans:
        lines.append(
            f"- plans saved to `{report.saved_plans}`: carry out exactly them with "
            f"`orchestrate run --plan {report.saved_plans}`"
        )
    return lines


def render_markdown(report: BatchReport) -> str:
    """The whole report, with our keys masked."""
    kind = "dry run" if report.dry_run else "run"
    lines = [f"# orchestrate {kind}: {report.plan_file}", ""]
    for number, task in enumerate(report.tasks, start=1):
        status = _STATUS_WORDS[task.status]
        lines += [f"## {number}. {task.task}: {status}", "", f"- run: `{task.run_id}`"]
        lines += _dry_section(task) if report.dry_run else _run_section(task)
        lines.append("")
    lines += _totals(report)
    return mask_keys("\n".join(lines) + "\n")
