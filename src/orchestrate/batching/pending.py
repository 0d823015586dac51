"""Submitted batches on disk: which request went into which batch, written the moment the vendor
gives the batch its id, so a process that dies while a batch runs polls it again on the next
start instead of submitting (and paying for) the same requests twice. A process killed in the
instant between the vendor's answer and this write loses the id, and its requests are
submitted again on the next start: a window where a batch can be paid for twice. The other is
the instant between an answer being handed out (its entry spent) and its ledger row.

One JSON file per batch under `run_files.cloud_batches_root()`. An entry is spent once its
result was handed out or was a failure: a failure's retry must go into a new batch, and an
answer already handed out was recorded in its run's ledger (and kept for replay there), so a
later run asking the same thing must pay for its own rather than be costed for one no vendor
billed it. Records
older than `KEEP_DAYS` are dropped: OpenAI's batch files expire after 30 days by default (the
`openai` SDK's `files.create` docstring) and an archived Anthropic batch's results are no longer
available (`archived_at`, https://platform.claude.com/docs/en/api/messages/batches/retrieve).
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, ValidationError

from orchestrate.engine.run_state import write_atomically

KEEP_DAYS = 30


class PendingEntry(BaseModel):
    """One request of a batch."""

    custom_id: str
    key: str
    """The request's hash (`routing.replay.request_key`)."""
    spent: bool = False
    """Its result was handed out, or was a failure: it will answer no other request."""


class PendingBatch(BaseModel):
    """One submitted batch."""

    api: str
    """`BatchApi.key`."""
    batch_id: str
    created_at: float
    entries: list[PendingEntry]


class PendingStore:
    """The records in one folder, and which entries this process already handed out."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._claimed: set[tuple[str, str]] = set()
        self._batches: dict[str, PendingBatch] = {}
        if folder.is_dir():
            self._load()

    def _load(self) -> None:
        cutoff = time.time() - KEEP_DAYS * 24 * 3600
        for path in sorted(self.folder.glob("*.json")):
            try:
                record = PendingBatch.model_validate_json(path.read_text(encoding="utf-8"))
            except (ValidationError, OSError):
                continue  # not ours, or cut short: its batch is simply not reused
            if record.created_at < cutoff:
                path.unlink(missing_ok=True)
                continue
            self._batches[record.batch_id] = record

    def _path(self, batch_id: str) -> Path:
        return self.folder / f"{batch_id}.json"

    def add(self, record: PendingBatch) -> None:
        """Keep a batch just submitted (durably, before anyone waits on it)."""
        self._batches[record.batch_id] = record
        self._claimed.update((record.batch_id, e.custom_id) for e in record.entries)
        write_atomically(self._path(record.batch_id), record.model_dump_json())

    def claim(self, api: str, key: str) -> tuple[str, str] | None:
        """`(batch_id, custom_id)` of a submitted request for `key` that no one in this process
        has been given yet and whose result was neither handed out nor a failure; None to
        submit it anew."""
        for record in self._batches.values():
            if record.api != api:
                continue
            for entry in record.entries:
                taken = (record.batch_id, entry.custom_id) in self._claimed
                if entry.key == key and not entry.spent and not taken:
                    self._claimed.add((record.batch_id, entry.custom_id))
                    return record.batch_id, entry.custom_id
        return None

    def spend(self, batch_id: str, custom_id: str) -> None:
        """This entry's result was handed out or was a failure: never hand it out again."""
        record = self._batches.get(batch_id)
        if record is None:
            return
        for entry in record.entries:
            if entry.custom_id == custom_id:
                entry.spent = True
        write_atomically(self._path(batch_id), record.model_dump_json())
