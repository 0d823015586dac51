"""Anthropic's Message Batches API on `FakeAnthropic`, as documented and as the `anthropic` SDK's
`client.messages.batches` speaks it.

- `POST /v1/messages/batches` with `requests: [{custom_id, params}]` answers a `message_batch`
  whose `processing_status` is `in_progress`, every request counted as `processing`, `expires_at`
  24 hours after `created_at` and no `results_url`
  (https://platform.claude.com/docs/en/api/messages/batches/create).
- `GET /v1/messages/batches/{id}` is the poll: it stays `in_progress` for `polls_to_end`
  retrievals, then `ended`, with the per-result counts and a `results_url`
  (https://platform.claude.com/docs/en/api/messages/batches/retrieve: "Requests start as
  processing and move to one of the other statuses only once processing of the entire batch
  ends").
- The results are a `.jsonl` stream, one `{custom_id, result}` per request, "not guaranteed to be
  in the same order as requests" (this fake returns them reversed); a result is `succeeded` with
  the `message`, `errored` with Anthropic's error body, `canceled` or `expired`
  (https://platform.claude.com/docs/en/api/messages/batches/results; the SDK's
  `MessageBatchIndividualResponse`).

Each request takes the next scripted `Reply` when the batch is created: a 200 reply succeeds, an
error reply errors, and `error_type="expired"` or `"canceled"` makes that one request expire or
be canceled. `expire(batch_id)` ends a batch whose 24 hours ran out: every request still
processing expires.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrate.testing.fake_server import RecordedRequest, Reply, Response

if TYPE_CHECKING:
    from orchestrate.testing.fake_anthropic import FakeAnthropic

PREFIX = "/v1/messages/batches"
_ids = itertools.count(1)
_START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class FakeBatch:
    """One batch and what became of each of its requests."""

    id: str
    created_at: datetime
    items: list[tuple[str, dict[str, Any], Reply]]
    """(custom_id, params, the reply it took), in request order."""
    polls_left: int
    ended: bool = False
    expired: bool = False
    retrievals: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)


class AnthropicBatches:
    """The batch routes of one `FakeAnthropic`."""

    def __init__(self, fake: FakeAnthropic) -> None:
        self.fake = fake
        self.batches: dict[str, FakeBatch] = {}
        self.polls_to_end = 1
        """Retrievals that still answer `in_progress` before a batch ends."""
        self.busy_polls = 0
        """Retrievals still to answer 529 `overloaded_error`, the API's documented "temporarily
        overloaded" (https://platform.claude.com/docs/en/api/errors), before answering again."""

    def expire(self, batch_id: str) -> None:
        """The 24 hours ran out: the batch ends and its unfinished requests expire."""
        batch = self.batches[batch_id]
        batch.expired, batch.polls_left = True, 0

    def handle(self, request: RecordedRequest, path: str) -> Response | None:
        """Answer a batch route; None when `path` is not one."""
        if not path.startswith(PREFIX):
            return None
        rest = path.removeprefix(PREFIX).strip("/")
        if request.method == "POST" and rest == "":
            return self._create(request)
        batch_id, _, tail = rest.partition("/")
        batch = self.batches.get(batch_id)
        if batch is None:
            return self._error(404, f"message_batch_id: {batch_id} not found", "not_found_error")
        if request.method == "GET" and tail == "" and self.busy_polls > 0:
            self.busy_polls -= 1
            return self._error(529, "Overloaded", "overloaded_error")
        if request.method == "GET" and tail == "":
            batch.retrievals += 1
            self._advance(batch)
            return Response.json(self._batch(batch))
        if request.method == "GET" and tail == "results":
            return self._results(batch)
        return self._error(404, f"Not found: {request.method} {path}", "not_found_error")

    def _error(self, status: int, message: str, error_type: str) -> Response:
        from orchestrate.testing.fake_anthropic import error_body

        return Response.json(error_body(status, message, error_type), status=status)

    def _create(self, request: RecordedRequest) -> Response:
        body = request.json() or {}
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return self._error(
                400, "requests: List should have at least 1 item", "invalid_request_error"
            )
        ids = [item.get("custom_id") for item in requests]
        if len(set(ids)) != len(ids):
            return self._error(400, "requests: custom_id must be unique", "invalid_request_error")
        items = [(str(item["custom_id"]), dict(item["params"]), self.fake.next_reply(request))
                 for item in requests]  # fmt: skip
        batch_id = f"msgbatch_fake{next(_ids):06d}"
        created = _START + timedelta(minutes=len(self.batches))
        batch = FakeBatch(batch_id, created, items, polls_left=self.polls_to_end)
        self.batches[batch_id] = batch
        return Response.json(self._batch(batch))

    def _advance(self, batch: FakeBatch) -> None:
        if batch.ended:
            return
        if batch.polls_left > 0:
            batch.polls_left -= 1
            return
        batch.ended = True
        batch.results = [self._result(custom_id, params, reply, batch.expired)
                         for custom_id, params, reply in batch.items]  # fmt: skip

    def _result(
        self, custom_id: str, params: dict[str, Any], reply: Reply, expired: bool
    ) -> dict[str, Any]:
        from orchestrate.testing.fake_anthropic import error_body, message_for

        if expired or reply.error_type == "expired":
            result: dict[str, Any] = {"type": "expired"}
        elif reply.error_type == "canceled":
            result = {"type": "canceled"}
        elif reply.status != 200:
            result = {
                "type": "errored",
                "error": error_body(reply.status, reply.error, reply.error_type),
            }
        else:
            result = {"type": "succeeded", "message": message_for(reply, params)}
        return {"custom_id": custom_id, "result": result}

    def _batch(self, batch: FakeBatch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.ended:
            for line in batch.results:
                counts[line["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.items)
        ended_at = batch.created_at + timedelta(hours=24 if batch.expired else 1)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if batch.ended else "in_progress",
            "request_counts": counts,
            "created_at": _stamp(batch.created_at),
            "expires_at": _stamp(batch.created_at + timedelta(hours=24)),
            "ended_at": _stamp(ended_at) if batch.ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.fake.url}{PREFIX}/{batch.id}/results" if batch.ended else None,
        }

    def _results(self, batch: FakeBatch) -> Response:
        if not batch.ended:
            return self._error(
                404, f"message_batch_id: {batch.id} has no results yet", "not_found_error"
            )
        lines = [json.dumps(line) for line in reversed(batch.results)]
        return Response(
            body=("\n".join(lines) + "\n").encode(),
            headers={"content-type": "application/binary"},
        )
