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

The files are read and written (with an fsync each) by one thread of their own, never on the
event loop: one thread keeps the writes in the order they were asked for, so an older copy of
a record never lands over a newer one, and a write already asked for is made even when the
caller waiting on it gives up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from orchestrate.engine.run_state import write_atomically

KEEP_DAYS = 30
T = TypeVar("T")


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


def read_records(folder: Path) -> dict[str, PendingBatch]:
    """The records kept in `folder`, by batch id; those past `KEEP_DAYS` are deleted."""
    cutoff = time.time() - KEEP_DAYS * 24 * 3600
    found: dict[str, PendingBatch] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = PendingBatch.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, OSError):
            continue  # not ours, or cut short: its batch is simply not reused
        if record.created_at < cutoff:
            path.unlink(missing_ok=True)
            continue
        found[record.batch_id] = record
    return found


class PendingStore:
    """The records in one folder, and which entries this process already handed out."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._claimed: set[tuple[str, str]] = set()
        self._batches: dict[str, PendingBatch] | None = None
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cloud-batches")

    async def _off_loop(self, work: Callable[[], T]) -> T:
        # Shielded: a caller that gives up does not take back a write already asked for.
        return await asyncio.shield(asyncio.wrap_future(self._disk.submit(work)))

    async def _records(self) -> dict[str, PendingBatch]:
        if self._batches is None:
            found = await self._off_loop(lambda: read_records(self.folder))
            if self._batches is None:  # two first callers read together: the first one keeps
                self._batches = found
        return self._batches

    async def _save(self, record: PendingBatch) -> None:
        path, text = self.folder / f"{record.batch_id}.json", record.model_dump_json()
        await self._off_loop(lambda: write_atomically(path, text))

    async def add(self, record: PendingBatch) -> None:
        """Keep a batch just submitted (durably, before anyone waits on it)."""
        (await self._records())[record.batch_id] = record
        self._claimed.update((record.batch_id, e.custom_id) for e in record.entries)
        await self._save(record)

    async def claim(self, api: str, key: str) -> tuple[str, str] | None:
        """`(batch_id, custom_id)` of a submitted request for `key` that no one in this process
        has been given yet and whose result was neither handed out nor a failure; None to
        submit it anew."""
        for record in (await self._records()).values():
            if record.api != api:
                continue
            for entry in record.entries:
                taken = (record.batch_id, entry.custom_id) in self._claimed
                if entry.key == key and not entry.spent and not taken:
                    self._claimed.add((record.batch_id, entry.custom_id))
                    return record.batch_id, entry.custom_id
        return None

    def release(self, batch_id: str, custom_id: str) -> None:
        """Its caller got no result (the batch could not be looked at): the next request for
        the same thing waits on this batch again instead of paying for a new one."""
        self._claimed.discard((batch_id, custom_id))

    async def spend(self, batch_id: str, custom_id: str) -> None:
        """This entry's result was handed out or was a failure: never hand it out again."""
        record = (await self._records()).get(batch_id)
        if record is None:
            return
        for entry in record.entries:
            if entry.custom_id == custom_id:
                entry.spent = True
        await self._save(record)

    async def aclose(self) -> None:
        """Finish the writes asked for, then stop the thread."""
        await asyncio.to_thread(self._disk.shutdown, wait=True)
