"""The report of a `--repos` run, and merging several runs' reports (a workflow's matrix jobs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrate.cli.merge_cmd import merge_reports
from orchestrate.exceptions import ConfigError
from orchestrate.fleet.record import PullLink
from orchestrate.fleet.report import (
    FleetReport,
    RepoRow,
    failed_row,
    merge_fleet_reports,
    render_fleet_json,
    render_fleet_markdown,
    sum_costs,
)
from orchestrate.ledger.report import CostTotals


def costs(cloud: float, local_tokens: int, counterfactual: float) -> CostTotals:
    return CostTotals(
        cloud_usd=cloud,
        local_usd=0.0,
        local_tokens=local_tokens,
        counterfactual_usd=counterfactual,
        savings_usd=counterfactual - cloud,
        savings_pct=100 * (counterfactual - cloud) / counterfactual,
    )


def fleet(fleet_id: str, rows: list[RepoRow]) -> FleetReport:
    return FleetReport(
        fleet_id=fleet_id,
        plan_file="plan.md",
        dry_run=False,
        rows=rows,
        cost=sum_costs([row.cost for row in rows]),
    )


def test_merged_reports_keep_every_row_and_sum_the_cost(tmp_path: Path) -> None:
    pull = PullLink(run_id="r1", number=7, url="https://github.com/acme/one/pull/7")
    one = RepoRow(
        repo="acme/one",
        status="approved",
        branches=["orchestrate/r1"],
        cost=costs(0.5, 1000, 1.0),
        pulls=[pull],
    )
    two = failed_row("acme/two", "cloning acme/two failed: repository not found")
    merged = merge_fleet_reports([fleet("r1", [one]), fleet("r9", [two])])
    assert [row.repo for row in merged.rows] == ["acme/one", "acme/two"]
    assert merged.cost.cloud_usd == 0.5 and merged.cost.savings_pct == pytest.approx(50.0)
    assert not merged.ok
    text = render_fleet_markdown(merged)
    assert "resume with" not in text  # several runs: no one id resumes them
    assert "| acme/one | approved | `orchestrate/r1` | $0.5000 | 1,000 | $0.5000 | [#7](" in text
    assert "| acme/two | failed | — | $0.0000 | 0 | $0.0000 | — | cloning acme/two failed" in text
    assert "resume with: `orchestrate run plan.md --repos ... --resume r1`" in (
        render_fleet_markdown(fleet("r1", [one]))
    )

    paths = []
    for index, report in enumerate((fleet("r1", [one]), fleet("r9", [two]))):
        paths.append(tmp_path / f"report-{index}.json")
        paths[-1].write_text(render_fleet_json(report))
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": 3}')
    with pytest.raises(ConfigError, match=f"{bad} is not a report of `orchestrate run --repos"):
        merge_reports([*paths, bad], as_json=False)
