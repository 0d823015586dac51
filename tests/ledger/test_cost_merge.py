"""Several ledgers reported together (the repositories of a `--repos` run, a workflow's matrix
jobs), and the cost report as Markdown for a job summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrate.cli.cost_cmd import cost
from orchestrate.exceptions import LedgerMissingError
from orchestrate.ledger.store import AttemptRecord, Ledger

SONNET = "anthropic:claude-sonnet-4-6"


def attempt(run_id: str, agent: str, model: str, tier: str, **fields: object) -> AttemptRecord:
    return AttemptRecord.model_validate(
        {
            "run_id": run_id,
            "agent": agent,
            "provider": model.split(":", maxsplit=1)[0],
            "model": model,
        }
        | {"tier": tier}
        | fields
    )


def test_two_ledgers_are_one_report_summed_by_agent_and_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    with Ledger(first) as ledger:
        ledger.record(attempt("r1", "planner", SONNET, "cloud", input_tokens=1000, cost_usd=0.25))
        ledger.record(attempt("r1", "coder", "ollama:qwen", "local", input_tokens=4000))
        ledger.count_edit_reply("ollama:qwen", "whole", True)
    with Ledger(second) as ledger:
        ledger.record(attempt("r1", "planner", SONNET, "cloud", input_tokens=3000, cost_usd=0.5))
        ledger.count_edit_reply("ollama:qwen", "whole", False)

    cost(tmp_path, None, False, [first, second], markdown=True)

    text = capsys.readouterr().out
    assert text.startswith("## Cost of every run in 2 ledger(s)\n")
    assert (
        "| planner | anthropic:claude-sonnet-4-6 | cloud | 2 | 0 | 4,000 | 0 | 0/0 | $0.7500 |"
        in text
    )
    assert "| coder | ollama:qwen | local | 1 | 0 | 4,000 |" in text
    assert "- cloud spend: $0.7500" in text
    assert "- local tokens: 4,000" in text

    cost(tmp_path, None, True, [first, second])

    data = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["well_formed"], r["malformed"]) for r in data["edit_replies"]] == [
        ("ollama:qwen", 1, 1)
    ]


def test_a_missing_ledger_among_several_is_named(tmp_path: Path) -> None:
    present = tmp_path / "one.sqlite"
    Ledger(present).close()
    missing = tmp_path / "two.sqlite"
    with pytest.raises(LedgerMissingError, match=f"no ledger at {missing}"):
        cost(tmp_path, None, False, [present, missing])
