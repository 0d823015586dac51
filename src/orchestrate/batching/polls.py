"""One poll loop per submitted batch, alive while someone waits on it.

Callers wait on a shared loop (one look at the vendor per batch, whatever the number of
callers). When the last of them gives up, the loop is cancelled and awaited: a loop nobody
waits on would go on calling a client its owner may have closed, and its error would reach no
one ("Task exception was never retrieved"). The batch keeps running at the vendor and its id is
on disk: the next request for it starts a new loop. A loop that fails hands every caller a
`BatchPollError` saying so; `aclose` cancels and awaits whatever still runs.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orchestrate.batching.api import BatchApi, BatchResults
from orchestrate.exceptions import BatchPollError


@dataclass
class _Loop:
    task: asyncio.Task[BatchResults]
    waiting: int = 0


class Polls:
    """The poll loops of one queue: the first look after `first_s`, then twice as long each
    time up to `max_s`, with a little jitter so many processes do not poll in step."""

    def __init__(
        self,
        first_s: float,
        max_s: float,
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random,
    ) -> None:
        self.first_s, self.max_s = first_s, max_s
        self._sleep, self._rng = sleep, rng
        self._loops: dict[str, _Loop] = {}

    async def results(self, api: BatchApi, batch_id: str, kept_in: str) -> BatchResults:
        """The batch's results once it ended; `BatchPollError` if looking at it failed."""
        loop = self._loops.get(batch_id)
        if loop is None:
            task = asyncio.create_task(self._poll(api, batch_id, kept_in))
            loop = self._loops[batch_id] = _Loop(task)
        loop.waiting += 1
        try:
            # Shielded: one caller giving up must not stop the loop the others wait on.
            return await asyncio.shield(loop.task)
        finally:
            loop.waiting -= 1
            if not loop.waiting:
                await self._end(batch_id, loop)

    async def _end(self, batch_id: str, loop: _Loop) -> None:
        """No one waits any more: stop the loop and take its outcome, whatever it was (every
        caller had its own copy, or gave up on it)."""
        if self._loops.get(batch_id) is loop:
            del self._loops[batch_id]
        loop.task.cancel()
        await asyncio.wait([loop.task])
        if not loop.task.cancelled():
            loop.task.exception()  # delivered to its callers already, or wanted by none

    async def _poll(self, api: BatchApi, batch_id: str, kept_in: str) -> BatchResults:
        wait = self.first_s
        try:
            while True:
                await self._sleep(wait * self._rng.uniform(0.9, 1.1))
                if await api.ended(batch_id):
                    return await api.results(batch_id)
                wait = min(self.max_s, wait * 2)
        except Exception as error:
            raise BatchPollError(
                f"could not look at batch {batch_id} ({type(error).__name__}): it keeps running "
                f"at {api.label}; run the same command again to collect its answers without "
                f"paying twice (its id is kept in {kept_in})"
            ) from error

    async def aclose(self) -> None:
        """Cancel and await every loop still running."""
        loops, self._loops = list(self._loops.values()), {}
        for loop in loops:
            loop.task.cancel()
        if loops:
            await asyncio.wait([loop.task for loop in loops])
        for loop in loops:
            if not loop.task.cancelled():
                loop.task.exception()  # its callers got it (or gave up on it)
