"""OpenAI models through OpenAI's Batch API (`client.files` + `client.batches`), at half price.

The requests go up as one JSONL file (`purpose: batch`), one
`{custom_id, method: POST, url: /v1/responses, body}` per line, the body the same a Responses
call takes; the batch is created on it with `completion_window: 24h`
(https://developers.openai.com/api/reference/resources/batches/methods/create). It ends
`completed`, `expired`, `failed` or `cancelled`; answers are in its output file and failures in
its error file, one `{custom_id, response: {status_code, body}, error}` per line, in no order. An
expired batch returns what finished; the rest expired with `error.code` `batch_expired`
(https://help.openai.com/en/articles/9197833-batch-api-faq). "Batch: 50% of the standard rates"
is in the price table (`batch: 0.5`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import openai
from openai.types.responses import Response

from orchestrate.batching.api import BatchApi, BatchResults, Outcome
from orchestrate.models.base import ModelRequest
from orchestrate.models.openai import failure_of_body
from orchestrate.models.openai_responses import answer_of_response, response_params
from orchestrate.routing.failures import Failure, FailureKind

ENDPOINT: Literal["/v1/responses"] = "/v1/responses"
ENDED = frozenset({"completed", "expired", "failed", "cancelled"})
"""A batch in one of these states has nothing more to give."""
_NEVER_RAN: dict[str, Failure] = {
    "batch_expired": Failure(FailureKind.RETRY, "batch_expired", "the batch expired first"),
    "request_timeout": Failure(FailureKind.RETRY, "timeout", "the model call timed out"),
    "batch_cancelled": Failure(FailureKind.MOVE_ON, "batch_canceled", "the batch was cancelled"),
}
"""`error.code` of a line whose request never ran (OpenAI's `BatchRequestOutput.error`)."""


class OpenAIBatchApi(BatchApi):
    """One OpenAI model's Responses calls as batches."""

    label = "OpenAI's Batch API"

    def __init__(self, name: str, client: openai.AsyncOpenAI) -> None:
        self.name = name
        self.client = client
        self.key = f"openai|{client.base_url}|{name}"

    async def submit(self, entries: Sequence[tuple[str, ModelRequest]]) -> str:
        """Upload the requests and create the batch on them; its id."""
        lines = [
            json.dumps(
                {
                    "custom_id": custom_id,
                    "method": "POST",
                    "url": ENDPOINT,
                    "body": response_params(self.name, request),
                }
            )
            for custom_id, request in entries
        ]
        upload = await self.client.files.create(
            file=("requests.jsonl", ("\n".join(lines) + "\n").encode()), purpose="batch"
        )
        batch = await self.client.batches.create(
            input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
        )
        return batch.id

    async def ended(self, batch_id: str) -> bool:
        """Whether the batch reached a state it leaves no more."""
        batch = await self.client.batches.retrieve(batch_id)
        return batch.status in ENDED

    async def results(self, batch_id: str) -> BatchResults:
        """Each request's answer, or what failed it; a batch that failed validation fails all."""
        batch = await self.client.batches.retrieve(batch_id)
        finished = batch.completed_at or batch.expired_at or batch.failed_at or batch.created_at
        waited = float(finished - batch.created_at)
        found: dict[str, Outcome] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id is None:
                continue
            content = await self.client.files.content(file_id)
            for text in content.text.splitlines():
                if text.strip():
                    line = json.loads(text)
                    found[str(line["custom_id"])] = _outcome(line, waited)
        if batch.status == "failed":
            errors = batch.errors.data if batch.errors and batch.errors.data else []
            why = "; ".join(f"{e.code}: {e.message}" for e in errors) or "the batch failed"
            return BatchResults(found, Failure(FailureKind.MOVE_ON, "batch_failed", why))
        return BatchResults(found)


def _outcome(line: dict[str, Any], waited: float) -> Outcome:
    response = line.get("response")
    if response is None:
        code = str((line.get("error") or {}).get("code") or "batch_failed")
        return _NEVER_RAN.get(code, Failure(FailureKind.RETRY, code, f"not run: {code}"))
    status = int(response.get("status_code", 500))
    body = response.get("body") or {}
    if status != 200:
        return failure_of_body(status, body.get("error") or {})
    return answer_of_response(Response.model_validate(body), waited)
