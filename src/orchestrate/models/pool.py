"""Which server of a pooled endpoint takes the next request (`hosts:` in providers.yaml).

A pool is a choice among the servers of one endpoint, never among models: the chain walk
(`routing/chain.py`) decides which model answers, and the pool which of that model's servers.

- A request goes to the server with the fewest requests in flight for its limit (`concurrency`).
- A conversation that came back (a subtask's fix rounds, `ModelRequest.conversation`) goes
  where its earlier rounds went, whose prompt cache holds its prefix, and waits for that server
  when it is full, unless that server is busier than the least busy other by more than its own
  limit: then it goes there.
- A server that failed (refused, 5xx, timed out) is left out for `host_cooldown_s`, doubled at
  each failure in a row; after that one request at a time probes it, and its first success
  brings it back. When no server is left, the pool says so and the chain walk moves on.

The state is kept per endpoint for the whole process (every run's router, every repository of
a `--repos` run), since the servers are shared by all of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrate.config.schema import HostConfig
from orchestrate.exceptions import OrchestrateError
from orchestrate.models.base import ModelRequest

MAX_COOLDOWN_FACTOR = 8
"""A host failing again and again waits at most this many cooldowns between probes."""
_AFFINITY_MAX = 4096


class PoolDownError(OrchestrateError):
    """Every server of the pool is left out after failing; none can take the request now."""


@dataclass
class Host:
    """One server and what the pool knows of it now."""

    url: str
    limit: int
    in_flight: int = 0
    waiting: int = 0
    """Requests waiting for this server in particular (their conversation's earlier rounds)."""
    failures: int = 0
    """Failures in a row."""
    out_until: float = 0.0
    """Monotonic time before which it takes nothing."""

    def probing(self) -> bool:
        """Back from a cooldown but not yet proven: one request at a time."""
        return self.failures > 0

    def room(self, now: float) -> bool:
        """Whether it can take one more request now."""
        if now < self.out_until:
            return False
        return self.in_flight < (1 if self.probing() else self.limit)

    def load(self) -> float:
        """In flight and waiting, for its limit."""
        return (self.in_flight + self.waiting) / self.limit


def affinity_key(name: str, request: ModelRequest) -> str:
    """The conversation a request belongs to, on this model: the one it names (a worker names
    its subtask), else its system prompt and the first paragraph of its first message."""
    if request.conversation:
        blob = "\0".join((name, request.conversation))
    else:
        first = request.messages[0].content.split("\n\n", 1)[0] if request.messages else ""
        blob = "\0".join((name, request.system, first))
    return hashlib.sha256(blob.encode("utf-8", "surrogateescape")).hexdigest()


class HostPool:
    """The servers of one endpoint."""

    def __init__(self, name: str, hosts: Sequence[HostConfig], cooldown_s: float) -> None:
        self.name = name
        self.hosts = [Host(h.url, h.concurrency) for h in hosts]
        self.cooldown_s = cooldown_s
        self._changed = asyncio.Condition()
        self._affinity: OrderedDict[str, str] = OrderedDict()

    def _by_url(self, url: str) -> Host | None:
        return next((host for host in self.hosts if host.url == url), None)

    def _least_loaded(self, hosts: list[Host]) -> Host:
        return min(hosts, key=lambda host: (host.in_flight / host.limit, host.in_flight))

    def _choose(self, key: str, now: float) -> tuple[Host | None, Host | None, bool]:
        """(the host to take now, the one to wait for, sent past its conversation's host);
        neither host: wait for any. A request sent past its conversation's host because that
        host is too busy leaves the affinity as it was: the cache is still warm there."""
        live = [host for host in self.hosts if now >= host.out_until]
        if not live:
            raise PoolDownError(
                f"every host of {self.name} failed and is left out for now "
                f"({', '.join(host.url for host in self.hosts)})"
            )
        free = [host for host in live if host.room(now)]
        earlier = self._by_url(self._affinity.get(key, ""))
        if earlier is not None and earlier in live:
            others = [host for host in live if host is not earlier]
            floor = min((host.in_flight + host.waiting for host in others), default=0)
            busy = earlier.in_flight + earlier.waiting - floor > earlier.limit
            if earlier.room(now) and not busy:
                return earlier, None, False
            if not busy and not earlier.probing():
                return None, earlier, False
            return (self._least_loaded(free) if free else None), None, busy
        return (self._least_loaded(free) if free else None), None, False

    async def acquire(self, key: str) -> Host:
        """A host for the request whose conversation is `key`, counted in flight until
        `release`; waits while every host that may take it is full."""
        async with self._changed:
            while True:
                now = time.monotonic()
                host, wait_for, diverted = self._choose(key, now)
                if host is not None:
                    host.in_flight += 1
                    if not diverted:
                        self._remember(key, host.url)
                    return host
                if wait_for is not None:
                    wait_for.waiting += 1
                try:
                    await asyncio.wait_for(self._changed.wait(), self._next_return(now))
                except TimeoutError:
                    pass  # a host's cooldown ended: it may be probed now
                finally:
                    if wait_for is not None:
                        wait_for.waiting -= 1

    def _next_return(self, now: float) -> float | None:
        ahead = [host.out_until - now for host in self.hosts if host.out_until > now]
        return min(ahead) if ahead else None

    def _remember(self, key: str, url: str) -> None:
        self._affinity[key] = url
        self._affinity.move_to_end(key)
        while len(self._affinity) > _AFFINITY_MAX:
            self._affinity.popitem(last=False)

    async def release(self, host: Host, *, failed: bool) -> None:
        """The request on `host` ended; a failed host is left out for its cooldown."""
        async with self._changed:
            host.in_flight -= 1
            if failed:
                host.failures += 1
                factor = min(2 ** (host.failures - 1), MAX_COOLDOWN_FACTOR)
                host.out_until = time.monotonic() + self.cooldown_s * factor
            elif host.failures:
                host.failures, host.out_until = 0, 0.0  # the probe succeeded: back in
            self._changed.notify_all()

    def others_live(self, host: Host) -> bool:
        """Whether another host may take a request now or soon (not left out)."""
        now = time.monotonic()
        return any(other is not host and now >= other.out_until for other in self.hosts)


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], HostPool]]
_POOLS = weakref.WeakKeyDictionary()


def shared_pool(name: str, hosts: Sequence[HostConfig], cooldown_s: float) -> HostPool:
    """The one pool of these hosts in this process (per event loop: its condition belongs to
    the loop that runs the requests)."""
    loop = asyncio.get_running_loop()
    pools = _POOLS.setdefault(loop, {})
    key = (name, str(cooldown_s), *(f"{h.url}#{h.concurrency}" for h in hosts))
    if key not in pools:
        pools[key] = HostPool(name, hosts, cooldown_s)
    return pools[key]
