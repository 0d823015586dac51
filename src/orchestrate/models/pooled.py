"""A model served by several hosts (`hosts:`): one model to the router, each request sent to
the host the pool (`models.pool`) picks, every answer and failure naming its host.

A host that fails is left out and the failure is reported as a failover: the router takes the
request again at once, on another host, without spending one of the agent's retries or cooling
the model down. When no other host is left, the failure is the model's, as for one server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import OrchestrateError
from orchestrate.models.base import Model, ModelRequest, ModelResponse, ModelSettings, TokenCallback
from orchestrate.models.pool import HostPool, PoolDownError, affinity_key, shared_pool
from orchestrate.routing.failures import Failure, FailureKind

HOST_TROUBLE = frozenset({"unreachable", "connection", "timeout", "server_error", "unavailable"})
"""Failures that say the host is unwell (refused, dropped, timed out, 5xx), not the request."""

Builder = Callable[[EndpointConfig], Model]


class HostFailedError(OrchestrateError):
    """One host of the pool failed this request (and is now left out)."""

    def __init__(self, host: str, failure: Failure, failover: bool) -> None:
        super().__init__(f"{host}: {failure.message}")
        self.failure = replace(failure, host=host, failover=failover)
        if failover:
            self.failure = replace(self.failure, kind=FailureKind.RETRY, retry_after=0.0)


class PooledModel(Model):
    """One model behind the hosts of `endpoint`."""

    holds_slot = False
    """The pool applies each host's own limit; a request waiting for its conversation's host
    must not hold one of the endpoint's slots meanwhile."""

    def __init__(self, provider: str, name: str, endpoint: EndpointConfig, build: Builder) -> None:
        self.provider, self.name, self.tier = provider, name, endpoint.tier
        self._endpoint = endpoint
        self._hosts = {
            host.url: build(endpoint.model_copy(update={"base_url": host.url, "hosts": ()}))
            for host in endpoint.hosts
        }
        self._first = next(iter(self._hosts.values()))

    def _pool(self) -> HostPool:
        return shared_pool(self.provider, self._endpoint.hosts, self._endpoint.host_cooldown_s)

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """Send `request` to the host the pool picks; its answer names that host."""
        pool = self._pool()
        host = await pool.acquire(affinity_key(self.name, request))
        inner = self._hosts[host.url]
        try:
            response = await inner.request(request, on_token)
        except Exception as error:
            failure = inner.classify(error)
            trouble = failure is not None and failure.error_class in HOST_TROUBLE
            await pool.release(host, failed=trouble)
            if failure is None:
                raise
            raise HostFailedError(host.url, failure, trouble and pool.others_live(host)) from error
        await pool.release(host, failed=False)
        return response.model_copy(update={"host": host.url})

    def classify(self, error: BaseException) -> Failure | None:
        """A host's failure with its host (a failover when another host is left); the whole
        pool down moves on, like an endpoint that is unreachable."""
        if isinstance(error, HostFailedError):
            return error.failure
        if isinstance(error, PoolDownError):
            return Failure(FailureKind.MOVE_ON, "unreachable", str(error))
        return self._first.classify(error)

    def context_asked(self, settings: ModelSettings) -> int | None:
        """What every host is asked for (the same backend, the same settings)."""
        return self._first.context_asked(settings)

    async def served_window(self) -> int | None:
        """The smallest window any host reports, so a prompt that fits fits everywhere."""
        windows = [await host.served_window() for host in self._hosts.values()]
        known = [window for window in windows if window is not None]
        return min(known) if known else None

    async def count_tokens(self, request: ModelRequest) -> int | None:
        """As the backend counts them (the same tokenizer on every host)."""
        return await self._first.count_tokens(request)

    async def check(self) -> str:
        """Every host in order, each with its own detail (the first that fails raises)."""
        return "; ".join([f"{url}: {await host.check()}" for url, host in self._hosts.items()])

    async def aclose(self) -> None:
        """Close every host's client."""
        for host in self._hosts.values():
            await host.aclose()
