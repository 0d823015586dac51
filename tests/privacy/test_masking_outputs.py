"""Our own keys never reach the files and comments we write, even when an error echoes one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrate.cli.event_log import JsonLog
from orchestrate.engine.report import (
    BatchReport,
    BatchTotals,
    CheckLine,
    SubtaskLine,
    TaskReport,
    render_json,
)
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.events import ModelSkipped
from orchestrate.ledger.report import CostTotals

KEY = "sk-ant-api03-" + "Zx9" * 12


def test_the_json_event_log_masks_our_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    path = tmp_path / "events.jsonl"
    with JsonLog(path) as log:
        log(ModelSkipped(agent="planner", model="anthropic:x", reason=f"401: bad key {KEY}"))
    text = path.read_text()
    assert KEY not in text
    assert json.loads(text)["reason"] == "401: bad key [ANTHROPIC_API_KEY]"


def _report_quoting(key: str) -> BatchReport:
    cost = CostTotals(
        cloud_usd=0.0,
        local_usd=0.0,
        local_tokens=0,
        counterfactual_usd=0.0,
        savings_usd=0.0,
        savings_pct=0.0,
    )
    sub = SubtaskLine(
        id="s1",
        title="t",
        agent="coder",
        model="anthropic:x",
        status="failed",
        detail=f"no model could answer (anthropic:x: 401 invalid x-api-key {key})",
    )
    task = TaskReport(
        task="Fix it",
        run_id="r1",
        status="failed",
        branch="orchestrate/r1",
        worktree="/tmp/w",
        review_verdict="request_changes",
        review_summary=f"the diff commits {key}",
        subtasks=[sub],
        task_checks=[CheckLine(command=f"curl -H 'x-api-key: {key}' x", ok=False, exit_code=7)],
        cost=cost,
        detail=f"review failed: 401 {key}",
    )
    totals = BatchTotals(tasks=1, approved=0, cost=cost)
    return BatchReport(
        plan_file="plan.md", dry_run=False, tasks=[task], totals=totals, counterfactual_note="-"
    )


def test_the_markdown_and_json_reports_mask_our_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    report = _report_quoting(KEY)
    for text in (render_markdown(report), render_json(report)):
        assert KEY not in text
        assert text.count("[ANTHROPIC_API_KEY]") >= 4
