"""The savings report, its renderers, and `orchestrate cost` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from orchestrate.cli.cost_cmd import cost_listing
from orchestrate.cli.tables import show
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.report import CostReport, render_json
from orchestrate.ledger.store import AttemptRecord, Ledger

SONNET = "anthropic:claude-sonnet-4-6"
REFERENCE = "anthropic:claude-sonnet-5-5"
"""The packaged savings reference: the frontier model a user would otherwise use."""


def _attempt(agent: str, model: str, tier: str, **fields: object) -> AttemptRecord:
    provider = model.split(":", 1)[0]
    return AttemptRecord.model_validate(
        {"run_id": "r1", "agent": agent, "provider": provider, "model": model, "tier": tier}
        | fields
    )


def _attempts() -> list[AttemptRecord]:
    return [
        _attempt("planner", SONNET, "cloud", input_tokens=1_000, output_tokens=200, cost_usd=0.006),
        _attempt("planner", SONNET, "cloud", outcome="retry", error_class="rate_limit"),
        _attempt("coder", "ollama:qwen", "local", input_tokens=100_000, output_tokens=10_000),
        _attempt("coder", "ollama:qwen", "local", input_tokens=50_000, output_tokens=5_000),
        _attempt("coder", "openai:gpt-4o", "cloud", outcome="skipped"),
        _attempt("reviewer", "openai:gpt-4o", "cloud", input_tokens=2_000, cost_usd=0.005),
    ]


def _expected_totals() -> tuple[float, float, float]:
    ref = packaged_prices().prices[REFERENCE]
    cloud = 0.006 + 0.005
    counterfactual = cloud + (150_000 * ref.input + 15_000 * ref.output) / 1e6
    return cloud, counterfactual, counterfactual - cloud


def test_rows_group_by_agent_and_model_and_leave_out_skips() -> None:
    report = CostReport.from_attempts(_attempts(), Pricer.packaged(), run_id="r1")
    rows = {(r.agent, r.model): r for r in report.rows}
    assert list(rows) == [
        ("planner", SONNET),
        ("coder", "ollama:qwen"),
        ("reviewer", "openai:gpt-4o"),
    ]
    planner = rows["planner", SONNET]
    assert (planner.calls, planner.failed, planner.input_tokens) == (2, 1, 1_000)
    coder = rows["coder", "ollama:qwen"]
    assert (coder.tier, coder.calls, coder.input_tokens, coder.output_tokens) == (
        "local",
        2,
        150_000,
        15_000,
    )


def test_totals_and_savings_pct() -> None:
    report = CostReport.from_attempts(_attempts(), Pricer.packaged())
    cloud, counterfactual, savings = _expected_totals()
    t = report.totals
    assert t.cloud_usd == pytest.approx(cloud)
    assert t.local_usd == 0.0
    assert t.local_tokens == 165_000
    assert t.counterfactual_usd == pytest.approx(counterfactual)
    assert t.savings_usd == pytest.approx(savings)
    assert t.savings_pct == pytest.approx(100 * savings / counterfactual)


def test_local_spend_reduces_savings() -> None:
    pricer = Pricer(packaged_prices().prices, SONNET, local_cost_per_mtok=1.0)
    attempts = [
        _attempt("coder", "ollama:q", "local", input_tokens=1_000_000, cost_usd=1.0),
    ]
    t = CostReport.from_attempts(attempts, pricer).totals
    assert t.local_usd == 1.0
    assert t.counterfactual_usd == pytest.approx(3.0)
    assert t.savings_usd == pytest.approx(2.0)
    assert t.savings_pct == pytest.approx(200 / 3)


def test_empty_report_has_zero_pct() -> None:
    t = CostReport.from_attempts([], Pricer.packaged()).totals
    assert (t.counterfactual_usd, t.savings_usd, t.savings_pct) == (0.0, 0.0, 0.0)


def test_note_states_reference_model_and_its_rates() -> None:
    report = CostReport.from_attempts([], Pricer.packaged())
    assert report.counterfactual_note == (
        "every local call's tokens priced at anthropic:claude-sonnet-5-5 "
        "($2.00/$10.00 per Mtok); cloud calls at their actual cost"
    )


def test_json_and_table_renderings() -> None:
    report = CostReport.from_attempts(_attempts(), Pricer.packaged(), run_id="r1")
    data = json.loads(render_json(report))
    assert data["totals"]["local_tokens"] == 165_000
    assert CostReport.model_validate(data) == report
    console = Console(record=True, width=200, force_terminal=True)
    show(console, cost_listing(report))
    text = console.export_text()
    assert "Cost of run r1" in text
    assert "ollama:qwen" in text
    assert f"${report.totals.savings_usd:.4f}" in text
    assert "claude-sonnet-5-5 ($2.00/$10.00 per Mtok)" in text


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", "cost", "--repo", str(cwd), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
        check=False,
    )


def test_cli_prints_json_with_the_right_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        for rec in _attempts():
            ledger.record(rec)
        ledger.record(_attempt("coder", "ollama:qwen", "local", run_id="r2", input_tokens=7))
    result = _run_cli("--ledger", str(path), "--json", "--run", "r1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    cloud, counterfactual, savings = _expected_totals()
    assert data["run_id"] == "r1"
    assert data["totals"]["cloud_usd"] == pytest.approx(cloud)
    assert data["totals"]["counterfactual_usd"] == pytest.approx(counterfactual)
    assert data["totals"]["savings_usd"] == pytest.approx(savings)
    everything = json.loads(_run_cli("--ledger", str(path), "--json", cwd=tmp_path).stdout)
    assert everything["totals"]["local_tokens"] == 165_007


def test_cli_table_output(tmp_path: Path) -> None:
    path = tmp_path / ".orchestrate" / "ledger.sqlite"
    with Ledger(path) as ledger:
        for rec in _attempts():
            ledger.record(rec)
    result = _run_cli(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Cost of all runs" in result.stdout
    assert "reviewer" in result.stdout


def test_cli_shows_each_models_share_of_well_formed_edit_replies(tmp_path: Path) -> None:
    path = tmp_path / ".orchestrate" / "ledger.sqlite"
    with Ledger(path) as ledger:
        for rec in _attempts():
            ledger.record(rec)
        for well_formed in (True, True, True, False):
            ledger.count_edit_reply("ollama:qwen", "search_replace", well_formed)
    table = _run_cli(cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    row = next(line for line in table.stdout.splitlines() if "search_replace" in line)
    assert row == (
        "model: ollama:qwen · format: search_replace · well formed: 3 · malformed: 1 · share: 75%"
    )
    data = json.loads(_run_cli("--json", cwd=tmp_path).stdout)
    assert data["edit_replies"] == [
        {"model": "ollama:qwen", "edit_format": "search_replace", "well_formed": 3, "malformed": 1}
    ]


def test_cli_missing_ledger_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ledger.sqlite"
    result = _run_cli("--ledger", str(missing), "--json", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no runs recorded yet")
    assert str(missing) in lines[0]
    assert not missing.exists()


def test_cli_unknown_run_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.record(_attempt("coder", "ollama:qwen", "local"))
    result = _run_cli("--ledger", str(path), "--run", "zzz", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no attempts recorded for run 'zzz'")


def test_replayed_answers_are_counted_apart_from_calls_sent() -> None:
    # Two calls served, then one of the answers read back by a resumed run: 2 sent, 1 replayed.
    attempts = [
        _attempt("planner", SONNET, "cloud", input_tokens=1_000, cost_usd=0.006),
        _attempt("coder", "ollama:qwen", "local", input_tokens=400),
        _attempt("coder", "ollama:qwen", "local", replayed=True, detail="replayed"),
    ]
    report = CostReport.from_attempts(attempts, Pricer.packaged(), run_id="r1")
    coder = next(r for r in report.rows if r.agent == "coder")
    assert (coder.calls, coder.replayed, coder.failed) == (1, 1, 0)
    assert (report.totals.calls, report.totals.replayed) == (2, 1)
    assert json.loads(render_json(report))["totals"]["replayed"] == 1
