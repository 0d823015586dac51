"""Schema step 5: every row says which host of a pooled endpoint served it and whether it went
through a Batch API; rows of an older ledger read back with neither."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from orchestrate.cli.progress import describe
from orchestrate.events import AttemptFinished
from orchestrate.ledger.store import MIGRATIONS, AttemptRecord, Ledger


def test_an_older_ledger_gains_host_and_batch_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:4]:
        for statement in statements:
            db.execute(statement)
    db.execute("PRAGMA user_version = 4")
    db.execute(
        "INSERT INTO attempts (run_id, at, agent, provider, model, answered_by, tier, attempt,"
        " input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd,"
        " counterfactual_usd, latency_s, outcome) VALUES"
        " ('old', 1.0, 'coder', 'ollama', 'ollama:q', 'q', 'local', 1, 5, 6, 0, 0, 0, 0, 0.1, 'ok')"
    )
    db.commit()
    db.close()

    with Ledger(path) as ledger:
        assert ledger.schema_version == len(MIGRATIONS) == 5
        [old] = ledger.attempts("old")
        assert (old.host, old.batch, old.input_tokens) == ("", False, 5)
        ledger.record(
            AttemptRecord(
                run_id="new", agent="coder", provider="pool", model="pool:q", tier="local",
                host="http://gpu2:11434",
            )
        )  # fmt: skip
        ledger.record(
            AttemptRecord(
                run_id="new", agent="planner", provider="anthropic",
                model="anthropic:claude-sonnet-4-6", tier="cloud", batch=True, cost_usd=0.5,
            )
        )  # fmt: skip
        hosts = [(row.host, row.batch) for row in ledger.attempts("new")]
    assert hosts == [("http://gpu2:11434", False), ("", True)]


def test_the_progress_line_names_the_host_and_the_batch() -> None:
    event = AttemptFinished(
        run_id="r", agent="coder", model="pool:q", tier="local", outcome="ok",
        host="http://gpu2:11434", latency_s=1.0,
    )  # fmt: skip
    assert describe(event) == "coder: pool:q on http://gpu2:11434 answered (0 in, 0 out, 1.0s)"
    failed = event.model_copy(update={"outcome": "retry", "error_class": "unreachable"})
    assert describe(failed) == "coder: pool:q on http://gpu2:11434 → retry (unreachable)"
    batched = AttemptFinished(
        run_id="r", agent="planner", model="anthropic:m", tier="cloud", outcome="ok", batch=True
    )
    assert describe(batched) == "planner: anthropic:m (batch) answered (0 in, 0 out, 0.0s)"
