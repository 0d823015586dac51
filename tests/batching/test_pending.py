"""Submitted batches on disk: found again by a new process, failed entries never reused, old
records dropped."""

from __future__ import annotations

import os
import time
from pathlib import Path

from orchestrate.batching.pending import KEEP_DAYS, PendingBatch, PendingEntry, PendingStore


def record(batch_id: str, created_at: float, *keys: str) -> PendingBatch:
    entries = [PendingEntry(custom_id=f"{n:05d}-{key}", key=key) for n, key in enumerate(keys)]
    return PendingBatch(
        api="anthropic|m", batch_id=batch_id, created_at=created_at, entries=entries
    )


async def kept(folder: Path, batch: PendingBatch) -> None:
    store = PendingStore(folder)
    await store.add(batch)
    await store.aclose()


async def test_a_new_process_finds_each_request_once_and_never_a_failed_one(
    tmp_path: Path,
) -> None:
    await kept(tmp_path, record("b1", time.time(), "k1", "k1", "k2"))

    store = PendingStore(tmp_path)  # a restart
    assert await store.claim("anthropic|m", "k1") == ("b1", "00000-k1")
    assert await store.claim("anthropic|m", "k1") == ("b1", "00001-k1")  # the same asked twice
    assert await store.claim("anthropic|m", "k1") is None  # a third time goes into a new batch
    assert await store.claim("openai|m", "k2") is None  # another API's batches never answer it
    await store.spend("b1", "00002-k2")
    await store.aclose()

    again = PendingStore(tmp_path)
    assert await again.claim("anthropic|m", "k2") is None  # it failed: a retry needs a new batch
    assert await again.claim("anthropic|m", "k1") == ("b1", "00000-k1")
    await again.aclose()


async def test_records_older_than_the_results_last_are_dropped(tmp_path: Path) -> None:
    old = time.time() - (KEEP_DAYS + 1) * 24 * 3600
    await kept(tmp_path, record("old", old, "k"))
    await kept(tmp_path, record("new", time.time(), "k"))
    store = PendingStore(tmp_path)
    assert await store.claim("anthropic|m", "k") == ("new", "00000-k")
    assert sorted(os.listdir(tmp_path)) == ["new.json"]
    await store.aclose()
