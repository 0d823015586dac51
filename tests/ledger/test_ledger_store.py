"""The SQLite ledger: round trip, WAL, migrations, run summaries."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from orchestrate.exceptions import LedgerError
from orchestrate.ledger.store import (
    MIGRATIONS,
    AttemptRecord,
    Ledger,
    default_ledger_path,
)


def _rec(run_id: str = "r1", **changes: object) -> AttemptRecord:
    base = AttemptRecord(
        run_id=run_id,
        at=1_000.0,
        agent="coder",
        provider="ollama",
        model="ollama:qwen",
        answered_by="qwen:latest",
        tier="local",
        input_tokens=100,
        output_tokens=20,
        latency_s=0.5,
    )
    return base.model_copy(update=changes)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    rec = AttemptRecord(
        run_id="r1",
        at=1_234.5,
        agent="planner",
        provider="anthropic",
        model="anthropic:claude-sonnet-4-6",
        answered_by="claude-sonnet-4-6-20250929",
        tier="cloud",
        attempt=2,
        input_tokens=11,
        output_tokens=22,
        cache_read_tokens=33,
        cache_write_tokens=44,
        cost_usd=0.125,
        counterfactual_usd=0.125,
        latency_s=1.5,
        outcome="retry",
        error_class="rate_limit",
        detail="429 slow down",
    )
    with Ledger(default_ledger_path(tmp_path)) as ledger:
        ledger.record(rec)
        ledger.record(_rec("r2"))
        assert ledger.attempts("r1") == [rec]
        assert [a.run_id for a in ledger.attempts()] == ["r1", "r2"]
        assert ledger.attempts("nope") == []


def test_file_lives_under_dot_orchestrate_in_wal_mode(tmp_path: Path) -> None:
    path = default_ledger_path(tmp_path)
    assert path == tmp_path / ".orchestrate" / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.record(_rec())
        assert (tmp_path / ".orchestrate" / "ledger.sqlite-wal").is_file()
        check = sqlite3.connect(path)
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # Committed rows are visible to another connection at once.
        assert check.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 1
        check.close()


def test_reopening_is_idempotent_and_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.record(_rec())
        assert ledger.schema_version == len(MIGRATIONS)
    with Ledger(path) as ledger:
        assert ledger.schema_version == len(MIGRATIONS)
        assert len(ledger.attempts()) == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer than this orchestrate"):
        Ledger(path)


def test_runs_aggregate_cloud_cost_and_local_tokens() -> None:
    with Ledger(None) as ledger:
        ledger.record(_rec("a", at=10.0, cache_read_tokens=5))
        ledger.record(_rec("a", at=30.0, tier="cloud", cost_usd=0.25, provider="anthropic"))
        ledger.record(_rec("a", at=20.0, tier="cloud", cost_usd=0.5, outcome="retry"))
        ledger.record(_rec("b", at=40.0, output_tokens=1))
        runs = {r.run_id: r for r in ledger.runs()}
    assert list(runs) == ["a", "b"]
    a = runs["a"]
    assert (a.first_at, a.last_at, a.attempts) == (10.0, 30.0, 3)
    assert a.cloud_usd == pytest.approx(0.75)
    assert a.local_tokens == 100 + 20 + 5
    assert runs["b"].cloud_usd == 0.0
    assert runs["b"].local_tokens == 101


def test_detail_is_shortened_and_masks_key_like_text() -> None:
    rec = _rec(detail="x")
    scrubbed = AttemptRecord.model_validate(
        {**rec.model_dump(), "detail": "auth failed for sk-ant-abc123456789 " + "y" * 500}
    )
    assert scrubbed.detail is not None
    assert "sk-ant-abc123456789" not in scrubbed.detail
    assert "[redacted]" in scrubbed.detail
    assert len(scrubbed.detail) <= 300


async def test_records_from_concurrent_tasks_all_land(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as ledger:

        async def worker(n: int) -> None:
            for i in range(20):
                await asyncio.to_thread(ledger.record, _rec(f"r{n}", attempt=i + 1))

        await asyncio.gather(*(worker(n) for n in range(5)))
        assert len(ledger.attempts()) == 100
        assert sorted(a.attempt for a in ledger.attempts("r3")) == list(range(1, 21))


def test_a_file_that_is_not_a_ledger_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_text("not a database, whatever the name says\n")
    with pytest.raises(LedgerError, match=r"is not a usable ledger .*move it aside"):
        Ledger(path)
    assert path.read_text() == "not a database, whatever the name says\n"


def test_a_ledger_of_the_previous_schema_gains_edit_reply_counts_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        ledger.record(_rec())
        ledger.count_edit_reply("ollama:qwen", "search_replace", well_formed=False)
        assert ledger.schema_version == len(MIGRATIONS)
        assert [r.malformed for r in ledger.edit_replies()] == [1]


def test_edit_reply_counts_add_up_across_connections_and_runs(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as first, Ledger(path) as second:
        first.count_edit_reply("ollama:qwen", "search_replace", well_formed=True)
        second.count_edit_reply("ollama:qwen", "search_replace", well_formed=False)
        second.count_edit_reply("ollama:qwen", "whole", well_formed=True)
    with Ledger(path) as ledger:
        rows = {
            (r.model, r.edit_format): (r.well_formed, r.malformed) for r in ledger.edit_replies()
        }
    assert rows == {("ollama:qwen", "search_replace"): (1, 1), ("ollama:qwen", "whole"): (1, 0)}


def test_rows_replayed_before_the_replayed_column_existed_are_marked_replayed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:3]:
        for statement in statements:
            db.execute(statement)
    db.execute("PRAGMA user_version = 3")
    columns = "run_id, at, agent, provider, model, answered_by, tier, attempt, input_tokens, "
    columns += "output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, "
    columns += "counterfactual_usd, latency_s, outcome, error_class, detail"
    for detail in ("replayed", None):
        db.execute(
            f"INSERT INTO attempts ({columns}) VALUES "
            "('r1', 1.0, 'coder', 'ollama', 'ollama:q', 'q', 'local', 1, 0, 0, 0, 0, 0, 0, 0, "
            "'ok', NULL, ?)",
            (detail,),
        )
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert [r.replayed for r in ledger.attempts("r1")] == [True, False]
