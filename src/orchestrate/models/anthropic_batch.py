"""Claude through Anthropic's Message Batches API (`client.messages.batches`), at half price.

Each request of a batch is `{custom_id, params}` with the same params a Messages call takes
(https://platform.claude.com/docs/en/api/messages/batches/create); `retrieve` is the poll, its
`processing_status` `ended` once every request succeeded, errored, was canceled or expired
(https://platform.claude.com/docs/en/api/messages/batches/retrieve); `results` streams one
`{custom_id, result}` per request, in no particular order
(https://platform.claude.com/docs/en/api/messages/batches/results). "Batch API: 50% discount on
input and output" is in the price table (`batch: 0.5`; "cutting costs by 50%",
https://platform.claude.com/docs/build-with-claude/batch-processing). A batch may take up to 24 hours; what is
still processing then expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anthropic

from orchestrate.batching.api import BatchApi, BatchResults, Outcome
from orchestrate.models.anthropic import answer_of, failure_of_type
from orchestrate.models.base import ModelRequest
from orchestrate.routing.failures import Failure, FailureKind

if TYPE_CHECKING:
    from orchestrate.models.anthropic import AnthropicModel


class AnthropicBatchApi(BatchApi):
    """One Claude model's requests as Message Batches."""

    label = "Anthropic's Message Batches API"

    def __init__(self, model: AnthropicModel, client: anthropic.AsyncAnthropic) -> None:
        self.model = model
        self.client = client
        self.key = f"anthropic|{client.base_url}|{model.name}"

    async def submit(self, entries: Sequence[tuple[str, ModelRequest]]) -> str:
        """Create the batch; its id."""
        requests: list[Any] = [
            {"custom_id": custom_id, "params": self.model.batch_params(request)}
            for custom_id, request in entries
        ]
        batch = await self.client.messages.batches.create(requests=requests)
        return batch.id

    async def ended(self, batch_id: str) -> bool:
        """Whether processing ended (every request has its result)."""
        batch = await self.client.messages.batches.retrieve(batch_id)
        return batch.processing_status == "ended"

    async def results(self, batch_id: str) -> BatchResults:
        """Each request's answer, or what failed it."""
        batch = await self.client.messages.batches.retrieve(batch_id)
        waited = (batch.ended_at - batch.created_at).total_seconds() if batch.ended_at else 0.0
        found: dict[str, Outcome] = {}
        async for line in await self.client.messages.batches.results(batch_id):
            found[line.custom_id] = _outcome(line.result, waited)
        return BatchResults(found)


def _outcome(result: Any, waited: float) -> Outcome:
    if result.type == "succeeded":
        return answer_of(result.message, waited)
    if result.type == "errored":
        error = result.error.error
        return failure_of_type(str(error.type), f"batch request errored: {error.message}")
    if result.type == "expired":
        # Still processing when the batch's 24 hours ran out: it may go into a new batch.
        return Failure(FailureKind.RETRY, "batch_expired", "the batch expired before this ran")
    return Failure(FailureKind.MOVE_ON, "batch_canceled", "the batch was canceled before this ran")
