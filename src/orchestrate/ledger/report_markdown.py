"""The cost report as Markdown: for a job summary, an issue or a pull request."""

from __future__ import annotations

from orchestrate.ledger.report import CostReport
from orchestrate.privacy.masking import mask_keys


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") or "—"


def render_cost_markdown(report: CostReport, title: str) -> str:
    """By agent and model, then the totals and what the all-cloud figure prices; masked."""
    lines = [
        f"## {title}",
        "",
        "| agent | model | tier | calls | failed | input | output | cache r/w | cost |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report.rows:
        cells = [*row.counts(), f"${row.cost_usd:.4f}"]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    totals = report.totals
    lines += [
        "",
        f"- cloud spend: ${totals.cloud_usd:.4f}",
        f"- local tokens: {totals.local_tokens:,}"
        + (f" (local spend ${totals.local_usd:.4f})" if totals.local_usd else ""),
        f"- all-cloud: ${totals.counterfactual_usd:.4f}; saved ${totals.savings_usd:.4f} "
        f"({totals.savings_pct:.1f}%)",
        f"- all-cloud counterfactual: {report.counterfactual_note}",
    ]
    return mask_keys("\n".join(lines) + "\n")
