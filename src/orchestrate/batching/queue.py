"""Requests that can wait, gathered into batches, submitted once, polled with backoff.

Requests for the same `BatchApi` that arrive within `gather_s` of each other (the plans of every
repository of a `--repos` run, reviews finishing together) go into one batch; the batch's id is
on disk before anyone waits on it (`pending`, written off the event loop). Each batch has one
poll loop, whatever the number of callers waiting on it (`polls`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrate.batching.api import BatchApi
from orchestrate.batching.pending import PendingBatch, PendingEntry, PendingStore
from orchestrate.batching.polls import Polls
from orchestrate.config.schema import CloudBatchSettings
from orchestrate.engine.run_files import cloud_batches_root
from orchestrate.exceptions import BatchPollError, OrchestrateError
from orchestrate.models.base import ModelRequest, ModelResponse
from orchestrate.routing.failures import Failure

Notify = Callable[[str], None]
"""Told, in one line each, what happens to a caller's request (submitted, still waiting)."""


class BatchRequestFailed(OrchestrateError):
    """The batch answered this request with a failure (errored, expired, canceled)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True)
class BatchTiming:
    """How long to gather requests and how often to look at a running batch."""

    gather_s: float = 5.0
    """A batch is submitted once no new request has joined it for this long."""
    first_poll_s: float = 30.0
    """The first look at a batch, this long after submitting it."""
    max_poll_s: float = 600.0
    """The longest wait between two looks."""


@dataclass
class _Group:
    """Requests gathering for one batch."""

    entries: list[tuple[str, ModelRequest, str]] = field(default_factory=list)
    """(custom_id, request, key)."""
    notices: list[Notify] = field(default_factory=list)
    submitted: asyncio.Future[str] = field(default_factory=asyncio.Future)
    last_join: float = 0.0
    waiting: int = 0
    """Callers still waiting for the batch's id (the others gave up)."""


class BatchQueue:
    """Every batched request of a process (shared by all the runs of a `--repos` run)."""

    def __init__(
        self,
        folder: Path,
        timing: BatchTiming | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.store = PendingStore(folder)
        self.timing = timing or BatchTiming()
        self._sleep = sleep
        self._polls = Polls(
            self.timing.first_poll_s, self.timing.max_poll_s, sleep, rng or random.Random()
        )
        self._groups: dict[str, _Group] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def request(
        self, api: BatchApi, request: ModelRequest, key: str, notify: Notify
    ) -> ModelResponse:
        """The answer to `request` from a batch: one submitted earlier if a process died waiting
        for it, else a new one; raises `BatchRequestFailed` for a failed result."""
        found = await self.store.claim(api.key, key)
        if found is None:
            batch_id, custom_id = await self._join(api, request, key, notify)
        else:
            batch_id, custom_id = found
            notify(f"waiting for batch {batch_id} ({api.label}), submitted before a restart")
        try:
            results = await self._polls.results(api, batch_id, str(self.store.folder))
        except BatchPollError:
            self.store.release(batch_id, custom_id)  # a retry waits on the same batch
            raise
        outcome = results.of(custom_id)
        # Handed out (its caller records it in its ledger at once) or failed: never again.
        await self.store.spend(batch_id, custom_id)
        if isinstance(outcome, Failure):
            raise BatchRequestFailed(outcome)
        return outcome

    async def _join(
        self, api: BatchApi, request: ModelRequest, key: str, notify: Notify
    ) -> tuple[str, str]:
        group = self._groups.get(api.key)
        if group is None:
            group = self._groups[api.key] = _Group()
            task = asyncio.create_task(self._submit_when_gathered(api, group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        custom_id = f"{len(group.entries):05d}-{key[:40]}"
        group.entries.append((custom_id, request, key))
        group.notices.append(notify)
        group.last_join = time.monotonic()
        group.waiting += 1
        try:
            # Shielded: one caller giving up must not stop the batch the others joined.
            return await asyncio.shield(group.submitted), custom_id
        finally:
            group.waiting -= 1

    async def _submit_when_gathered(self, api: BatchApi, group: _Group) -> None:
        try:
            await self._submit(api, group)
        finally:
            group.submitted.cancel()  # stopped by `aclose`: its callers stop too (no-op once set)

    async def _submit(self, api: BatchApi, group: _Group) -> None:
        gather = self.timing.gather_s
        while (left := group.last_join + gather - time.monotonic()) > 0:
            await self._sleep(left)
        self._groups.pop(api.key, None)  # later requests start the next batch
        try:
            batch_id = await api.submit([(cid, request) for cid, request, _ in group.entries])
            await self.store.add(
                PendingBatch(
                    api=api.key,
                    batch_id=batch_id,
                    created_at=time.time(),
                    entries=[PendingEntry(custom_id=cid, key=key) for cid, _, key in group.entries],
                )
            )
        except Exception as error:  # noqa: BLE001 - handed to every caller, who classifies it
            group.submitted.set_exception(error)
            if not group.waiting:
                group.submitted.exception()  # every caller gave up before it failed
            return
        count = len(group.entries)
        for notify in group.notices:
            notify(
                f"sent to {api.label} as batch {batch_id} ({count} request(s), half price); "
                f"first look in {self.timing.first_poll_s:g}s, then less often"
            )
        group.submitted.set_result(batch_id)

    async def aclose(self) -> None:
        """Stop gathering and polling, and finish the writes asked for (batches keep running
        at the vendor: a restart finds them again)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        await self._polls.aclose()
        await self.store.aclose()


def batch_queue(settings: CloudBatchSettings) -> BatchQueue:
    """The queue `--cloud-batch` uses, timed as `cloud_batch:` in providers.yaml says, its
    submitted batches kept with the user's state (`run_files.cloud_batches_root`)."""
    timing = BatchTiming(settings.gather_s, settings.first_poll_s, settings.max_poll_s)
    return BatchQueue(cloud_batches_root(), timing)
