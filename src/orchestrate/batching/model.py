"""A model whose answers come through its vendor's Batch API: what the router uses for the calls
that can wait (`--cloud-batch`). Its ref, provider and tier are the model's own, so the chain
walk, the ledger and the price table see the same model; the ledger prices its answers at the
batch rate (`ModelResponse.batch`)."""

from __future__ import annotations

from dataclasses import replace

from orchestrate.batching.api import BatchApi
from orchestrate.batching.queue import BatchQueue, BatchRequestFailed, Notify
from orchestrate.exceptions import BatchPollError
from orchestrate.models.base import Model, ModelRequest, ModelResponse, TokenCallback
from orchestrate.routing.failures import Failure
from orchestrate.routing.replay import request_key


class BatchedModel(Model):
    """`inner`, answered through `api` by way of `queue`."""

    holds_slot = False
    """A batched call waits minutes to hours without using the endpoint: it takes no slot of its
    concurrency limit."""

    def __init__(
        self, inner: Model, api: BatchApi, queue: BatchQueue, agent: str, notify: Notify
    ) -> None:
        self.inner, self.api, self.queue = inner, api, queue
        self.provider, self.name, self.tier = inner.provider, inner.name, inner.tier
        self._agent = agent
        ref = inner.ref
        self._notify: Notify = lambda text: notify(f"{agent}: {ref} {text}")

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """The answer, once the batch holding the request has ended (no tokens stream)."""
        key = request_key(self._agent, self.ref, request)
        response = await self.queue.request(self.api, request, key, self._notify)
        return response.model_copy(update={"batch": True})

    def classify(self, error: BaseException) -> Failure | None:
        """A failed result as the batch reported it; an error reaching the API as the SDK's."""
        if isinstance(error, BatchRequestFailed):
            return error.failure
        if isinstance(error, BatchPollError) and error.__cause__ is not None:
            # Routed as its cause would be (a 429 waits, a dead connection retries), told in
            # our words: the batch keeps running and a retry waits on it again.
            failure = self.inner.classify(error.__cause__)
            return None if failure is None else replace(failure, message=str(error))
        return self.inner.classify(error)

    async def aclose(self) -> None:
        """The inner model's clients are the router's to close."""
