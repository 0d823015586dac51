"""The SQLite ledger: one row per model attempt, kept under `.orchestrate/` in the target repo."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrate.config.schema import EditFormat
from orchestrate.exceptions import LedgerError
from orchestrate.ledger import edit_replies
from orchestrate.ledger.edit_replies import EditReplies
from orchestrate.ledger.failures import ledger_error
from orchestrate.models.base import Tier
from orchestrate.os_errors import os_storage_error

Outcome = Literal[
    "ok", "retry", "move_on", "context_overflow", "truncated", "stop", "invalid_output", "skipped"
]

_DETAIL_MAX = 300
# Error messages may echo request headers and the ledger is a plain file: mask anything key-like.
_SECRET_LIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+\S+|(?i:api[_-]?key)\S*\s*[:=]\s*\S+)")


class AttemptRecord(BaseModel):
    """One model attempt as written to the ledger."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    """Run the attempt belongs to."""
    at: float = Field(default_factory=time.time)
    """Unix time the attempt ended."""
    agent: str
    """Agent that made the call."""
    provider: str
    """Endpoint name (before the colon in `model`)."""
    model: str
    """The reference tried, `provider:model`."""
    answered_by: str = ""
    """Model name the provider reported answering with; empty when nothing answered."""
    tier: Tier
    """`cloud` or `local`."""
    attempt: int = 1
    """1 for the first try of this model in this call, 2 for its first retry, ..."""
    input_tokens: int = 0
    """Uncached prompt tokens."""
    output_tokens: int = 0
    """Generated tokens."""
    cache_read_tokens: int = 0
    """Prompt tokens read from the provider's cache."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's cache."""
    cost_usd: float = 0.0
    """What the call actually cost."""
    counterfactual_usd: float = 0.0
    """What it would have cost all-cloud: actual cost for cloud, reference-model price for local."""
    latency_s: float = 0.0
    """Wall time of the attempt."""
    outcome: Outcome = "ok"
    """What came of it; `skipped` means the model was passed over without a call."""
    replayed: bool = False
    """The answer was one a resumed run already paid for, read back instead of sent: no call."""
    host: str = ""
    """The server of a pooled endpoint that served or failed the call; empty for one server."""
    batch: bool = False
    """Sent through the vendor's Batch API and priced at its batch rate."""
    error_class: str | None = None
    """Short stable failure label (rate_limit, timeout, ...)."""
    detail: str | None = None
    """The error's one-line message, shortened and with key-like text masked."""

    @field_validator("detail")
    @classmethod
    def _scrub(cls, value: str | None) -> str | None:
        if value is None:
            return None
        masked = _SECRET_LIKE.sub("[redacted]", value.replace("\n", " "))
        return masked[:_DETAIL_MAX]


PrivacyAction = Literal["local_only", "redacted", "blocked"]


class PrivacyRecord(BaseModel):
    """One privacy finding and what the router did about it. Never holds the private text."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    """Run the request belonged to."""
    at: float = Field(default_factory=time.time)
    """Unix time of the decision."""
    agent: str
    """Agent whose request it was."""
    rule: str
    """What fired: `github_token`, `email`, `private_path`, ..."""
    location: str
    """Where in the request: `message 1, line 3`, `system`, or a file path."""
    action: PrivacyAction
    """`local_only`: cloud models dropped; `redacted`: sent to the cloud masked; `blocked`: no
    local model could take it, so it was not sent at all."""


class RunSummary(BaseModel):
    """One run's span and spend."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    """Run id."""
    first_at: float
    """Unix time of its first recorded attempt."""
    last_at: float
    """Unix time of its last recorded attempt."""
    attempts: int
    """Attempts recorded."""
    cloud_usd: float
    """Actual cloud spend."""
    local_tokens: int
    """All tokens (prompt and output) handled by local models."""


_COLUMNS: tuple[str, ...] = tuple(AttemptRecord.model_fields)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL, at REAL NOT NULL, agent TEXT NOT NULL,
            provider TEXT NOT NULL, model TEXT NOT NULL, answered_by TEXT NOT NULL,
            tier TEXT NOT NULL, attempt INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL, counterfactual_usd REAL NOT NULL, latency_s REAL NOT NULL,
            outcome TEXT NOT NULL, error_class TEXT, detail TEXT)""",
        "CREATE INDEX attempts_run ON attempts (run_id, at)",
    ),
    (
        """CREATE TABLE privacy_decisions (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL, at REAL NOT NULL, agent TEXT NOT NULL,
            rule TEXT NOT NULL, location TEXT NOT NULL, action TEXT NOT NULL)""",
        "CREATE INDEX privacy_decisions_run ON privacy_decisions (run_id, at)",
    ),
    edit_replies.MIGRATION,
    (
        "ALTER TABLE attempts ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0",
        # Rows written before the column existed said so only in their detail.
        "UPDATE attempts SET replayed = 1 WHERE detail = 'replayed'",
    ),
    (
        # Which server of a pooled endpoint served the call; whether it went through a Batch API.
        "ALTER TABLE attempts ADD COLUMN host TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE attempts ADD COLUMN batch INTEGER NOT NULL DEFAULT 0",
    ),
)
"""Schema steps in order; `PRAGMA user_version` counts those applied. Only ever append."""

_PRIVACY_COLUMNS: tuple[str, ...] = tuple(PrivacyRecord.model_fields)
_INSERT_PRIVACY = (
    f"INSERT INTO privacy_decisions ({', '.join(_PRIVACY_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_PRIVACY_COLUMNS))})"
)
_SELECT_PRIVACY = f"SELECT {', '.join(_PRIVACY_COLUMNS)} FROM privacy_decisions"
_INSERT = f"INSERT INTO attempts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM attempts"
_RUNS = """SELECT run_id, MIN(at), MAX(at), COUNT(*),
    TOTAL(CASE WHEN tier = 'cloud' THEN cost_usd END),
    TOTAL(CASE WHEN tier = 'local'
        THEN input_tokens + output_tokens + cache_read_tokens + cache_write_tokens END)
    FROM attempts GROUP BY run_id ORDER BY MIN(at)"""


def default_ledger_path(repo: Path) -> Path:
    """Where a repo's ledger lives."""
    return repo / ".orchestrate" / "ledger.sqlite"


class Ledger:
    """Append-only attempt log. One connection, guarded by a lock, shared by the run's tasks."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                storage = os_storage_error(error, f"the ledger's folder {path.parent}")
                if storage is None:
                    raise
                raise storage from None
        try:
            # Autocommit: each INSERT is its own transaction; migrations open theirs explicitly.
            self._db = sqlite3.connect(
                ":memory:" if path is None else str(path),
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise ledger_error(path, error) from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: commits skip fsync, so a record costs microseconds; a killed process
            # loses nothing committed, a power cut at most the last few rows, never the file.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except sqlite3.Error as error:
            self._db.close()
            raise ledger_error(path, error) from None

    @contextlib.contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; a SQLite failure becomes one line with its fix."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as error:
                raise ledger_error(self.path, error) from None

    def _migrate(self) -> None:
        if self._version() == len(MIGRATIONS):
            return
        # IMMEDIATE takes the write lock before re-reading the version, so two processes
        # opening the same new file cannot both apply a step.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()
            if version > len(MIGRATIONS):
                raise LedgerError(
                    f"ledger {self.path} has schema {version}, newer than this orchestrate "
                    f"knows ({len(MIGRATIONS)}); upgrade orchestrate or use another --ledger"
                )
            for step, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {step}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _version(self) -> int:
        row = self._db.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    @property
    def schema_version(self) -> int:
        """Migrations applied to this file."""
        with self._using():
            return self._version()

    def record(self, rec: AttemptRecord) -> None:
        """Append one attempt and commit it."""
        values = tuple(getattr(rec, name) for name in _COLUMNS)
        with self._using() as db:
            db.execute(_INSERT, values)

    def attempts(self, run_id: str | None = None) -> list[AttemptRecord]:
        """Attempts in the order recorded, of one run or of all."""
        with self._using() as db:
            if run_id is None:
                rows = db.execute(f"{_SELECT} ORDER BY id").fetchall()
            else:
                rows = db.execute(f"{_SELECT} WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
        return [AttemptRecord(**dict(zip(_COLUMNS, row, strict=True))) for row in rows]

    def record_privacy(self, rec: PrivacyRecord) -> None:
        """Append one privacy decision and commit it."""
        values = tuple(getattr(rec, name) for name in _PRIVACY_COLUMNS)
        with self._using() as db:
            db.execute(_INSERT_PRIVACY, values)

    def privacy_decisions(self, run_id: str | None = None) -> list[PrivacyRecord]:
        """Privacy decisions in the order recorded, of one run or of all."""
        where, args = ("", ()) if run_id is None else (" WHERE run_id = ?", (run_id,))
        with self._using() as db:
            rows = db.execute(f"{_SELECT_PRIVACY}{where} ORDER BY id", args).fetchall()
        return [PrivacyRecord(**dict(zip(_PRIVACY_COLUMNS, row, strict=True))) for row in rows]

    def count_edit_reply(self, model: str, edit_format: EditFormat, well_formed: bool) -> None:
        """Count one worker reply of `model` in `edit_format`, parsed or not."""
        with self._using() as db:
            db.execute(
                edit_replies.UPSERT, (model, edit_format, int(well_formed), int(not well_formed))
            )

    def edit_replies(self) -> list[EditReplies]:
        """Every model's reply counts per edit format, over all runs."""
        with self._using() as db:
            rows = db.execute(edit_replies.SELECT).fetchall()
        return [
            EditReplies(model=m, edit_format=f, well_formed=w, malformed=b) for m, f, w, b in rows
        ]

    def cloud_spend_since(self, since: float) -> float:
        """USD spent on cloud models in attempts recorded at or after Unix time `since`."""
        with self._using() as db:
            row = db.execute(
                "SELECT TOTAL(cost_usd) FROM attempts WHERE tier = 'cloud' AND at >= ?", (since,)
            ).fetchone()
        return float(row[0])

    def runs(self) -> list[RunSummary]:
        """Every run with its first and last time, cloud spend and local tokens, oldest first."""
        with self._using() as db:
            rows = db.execute(_RUNS).fetchall()
        return [
            RunSummary(
                run_id=run_id,
                first_at=first,
                last_at=last,
                attempts=count,
                cloud_usd=cloud,
                local_tokens=int(local),
            )
            for run_id, first, last, count, cloud, local in rows
        ]

    def close(self) -> None:
        """Close the connection (SQLite folds the WAL back into the file)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
