"""What the queue needs from a vendor's Batch API: submit requests, say whether a batch ended,
and hand back each request's answer or failure."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from orchestrate.models.base import ModelRequest, ModelResponse
from orchestrate.routing.failures import Failure, FailureKind

Outcome = ModelResponse | Failure
"""One request's result: its answer, or why there is none."""


@dataclass(frozen=True)
class BatchResults:
    """What an ended batch gave back."""

    found: Mapping[str, Outcome]
    """Each request's outcome, by custom id."""
    missing: Failure = field(
        default_factory=lambda: Failure(
            FailureKind.RETRY, "batch_missing", "the batch returned no result for this request"
        )
    )
    """What a request without a result gets (a batch that failed as a whole says why)."""

    def of(self, custom_id: str) -> Outcome:
        """The outcome of one request."""
        return self.found.get(custom_id, self.missing)


class BatchApi(abc.ABC):
    """One model's requests through one vendor's Batch API."""

    key: str
    """Which batches a request may join: the same endpoint and model."""
    label: str
    """How messages name the API: `Anthropic's Message Batches API`, ..."""

    @abc.abstractmethod
    async def submit(self, entries: Sequence[tuple[str, ModelRequest]]) -> str:
        """Create one batch of `(custom_id, request)`; return the batch id."""

    @abc.abstractmethod
    async def ended(self, batch_id: str) -> bool:
        """Whether the batch finished (every request answered, failed or expired)."""

    @abc.abstractmethod
    async def results(self, batch_id: str) -> BatchResults:
        """Each request's outcome (only once `ended`)."""
