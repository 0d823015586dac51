"""OpenAI's Batch API on `FakeOpenAI`, as documented and as the `openai` SDK's `client.files` and
`client.batches` speak it.

- `POST /v1/files` (multipart, `purpose=batch`) stores the JSONL input, one
  `{custom_id, method, url, body}` per line, and answers a `file` object
  (https://developers.openai.com/api/reference/resources/files/methods/create).
- `POST /v1/batches` with `input_file_id`, `endpoint` and `completion_window: "24h"` answers a
  `batch` in `validating` (https://developers.openai.com/api/reference/resources/batches/methods/
  create); each `GET /v1/batches/{id}` moves it on: `in_progress` for `polls_to_end` polls, then
  `completed` with `output_file_id` (requests that succeeded) and `error_file_id` (those that
  did not), and `request_counts` `{total, completed, failed}`.
- An expired batch (`expire(batch_id)`: its 24 hours ran out) ends `expired`: "remaining work is
  cancelled and any already completed work is returned" (https://help.openai.com/en/articles/
  9197833-batch-api-faq), the rest in the error file with `error.code` `batch_expired`.
- `GET /v1/files/{id}/content` is the JSONL: `{id, custom_id, response: {status_code,
  request_id, body}, error}` per request, in no particular order (this fake reverses it); a
  request the model refused has its status and error body under `response` and `error: null`
  (the shape reported in https://github.com/openai/openai-openapi/issues/302); one never run has
  `response: null` and `error: {code, message}`.

Each request takes the next scripted `Reply` when the batch is created: a 200 reply succeeds
(before the window closed, if the batch expires), an error reply fails with that status, and
`error_type="expired"` is a request the window closed on; the batch then ends `expired`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from orchestrate.testing.fake_server import RecordedRequest, Reply, Response

if TYPE_CHECKING:
    from orchestrate.testing.fake_openai import FakeOpenAI

_ids = itertools.count(1)
_CREATED = 1_796_112_000  # 2026-12-01 09:00 UTC
EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
Renderer = Callable[[Reply, dict[str, Any]], dict[str, Any]]
"""Renders a successful reply as the body the batch's endpoint would have answered."""
Refusal = Callable[[dict[str, Any]], dict[str, Any] | None]
"""The error OpenAI answers a request body with (a parameter the model refuses), or None."""


@dataclass
class FakeBatchJob:
    """One batch."""

    id: str
    endpoint: str
    input_file_id: str
    items: list[tuple[str, dict[str, Any], Reply]]
    polls_left: int
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


class OpenAIBatches:
    """The file and batch routes of one `FakeOpenAI`."""

    def __init__(self, fake: FakeOpenAI, renderers: dict[str, Renderer], refusal: Refusal) -> None:
        self.fake = fake
        self.refusal = refusal
        """A request the synchronous API would refuse fails alike in a batch (status 400)."""
        self.renderers = renderers
        """How a success renders, by endpoint (`/v1/chat/completions`, `/v1/responses`)."""
        self.files: dict[str, tuple[str, bytes]] = {}
        """Uploaded and produced files: id -> (purpose, content)."""
        self.jobs: dict[str, FakeBatchJob] = {}
        self.polls_to_end = 1
        """Polls that still answer `in_progress` before a batch completes."""
        self._expiring: set[str] = set()

    def expire(self, batch_id: str) -> None:
        """The 24 hours ran out: the next poll finds the batch `expired` (requests scripted to
        succeed had finished in time)."""
        self._expiring.add(batch_id)
        self.jobs[batch_id].polls_left = 0

    def handle(self, request: RecordedRequest, path: str) -> Response | None:
        """Answer a file or batch route; None when `path` is not one."""
        parts = path.removeprefix("/v1/").split("/")
        if parts[0] == "files":
            return self._files(request, parts[1:])
        if parts[0] == "batches":
            return self._batches(request, parts[1:])
        return None

    def _files(self, request: RecordedRequest, rest: list[str]) -> Response:
        if request.method == "POST" and not rest:
            return self._upload(request)
        if request.method == "GET" and len(rest) == 2 and rest[1] == "content":
            found = self.files.get(rest[0])
            if found is None:
                return _not_found(f"No such File object: {rest[0]}")
            return Response(body=found[1], headers={"content-type": "application/octet-stream"})
        return _not_found(f"Invalid URL ({request.method} /v1/files/{'/'.join(rest)})")

    def _upload(self, request: RecordedRequest) -> Response:
        fields = _form_fields(request)
        purpose = fields.get("purpose", (b"", ""))[0].decode()
        content, filename = fields.get("file", (b"", "upload.jsonl"))
        if purpose != "batch":
            return _invalid(f"'{purpose}' is not one of the supported purposes", "purpose")
        file_id = self._store("batch", content)
        return Response.json(_file(file_id, "batch", content, filename))

    def _store(self, purpose: str, content: bytes) -> str:
        file_id = f"file-fake{next(_ids):06d}"
        self.files[file_id] = (purpose, content)
        return file_id

    def _batches(self, request: RecordedRequest, rest: list[str]) -> Response:
        if request.method == "POST" and not rest:
            return self._create(request.json() or {}, request)
        job = self.jobs.get(rest[0]) if rest else None
        if job is None:
            return _not_found(f"No batch found with id '{rest[0] if rest else ''}'.")
        if request.method == "GET" and len(rest) == 1:
            self._advance(job)
            return Response.json(_batch(job))
        return _not_found(f"Invalid URL ({request.method} /v1/batches/{'/'.join(rest)})")

    def _create(self, data: dict[str, Any], request: RecordedRequest) -> Response:
        if data.get("completion_window") != "24h":
            return _invalid("completion_window must be '24h'", "completion_window")
        endpoint = str(data.get("endpoint", ""))
        if endpoint not in self.renderers:
            return _invalid(f"endpoint {endpoint!r} is not supported", "endpoint")
        stored = self.files.get(str(data.get("input_file_id", "")))
        if stored is None:
            return _not_found(f"No such File object: {data.get('input_file_id')}")
        lines = [json.loads(line) for line in stored[1].decode().splitlines() if line.strip()]
        items = [(str(line["custom_id"]), dict(line["body"]), self._reply(dict(line["body"]), request))
                 for line in lines]  # fmt: skip
        job = FakeBatchJob(
            id=f"batch_fake{next(_ids):06d}",
            endpoint=endpoint,
            input_file_id=str(data["input_file_id"]),
            items=items,
            polls_left=self.polls_to_end,
            counts={"total": len(items), "completed": 0, "failed": 0},
        )
        self.jobs[job.id] = job
        return Response.json(_batch(job))

    def _reply(self, body: dict[str, Any], request: RecordedRequest) -> Reply:
        refused = self.refusal(body)
        if refused is not None:
            return Reply(status=400, error=str(refused["message"]), error_type=refused["code"])
        return self.fake.next_reply(request)

    def _advance(self, job: FakeBatchJob) -> None:
        if job.status in ("completed", "expired"):
            return
        if job.status == "validating" and job.id not in self._expiring:
            job.status = "in_progress"
            return
        if job.polls_left > 0:
            job.polls_left -= 1
            return
        self._finish(job, expired=job.id in self._expiring)

    def _finish(self, job: FakeBatchJob, *, expired: bool) -> None:
        done: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for custom_id, body, reply in job.items:
            line: dict[str, Any] = {"id": f"batch_req_fake{next(_ids):06d}", "custom_id": custom_id}
            if reply.error_type == "expired":
                failed.append(line | {"response": None, "error": {"code": "batch_expired",
                                                                   "message": EXPIRED_MESSAGE}})  # fmt: skip
            elif reply.status != 200:
                response = {"status_code": reply.status, "request_id": f"req_{line['id']}",
                            "body": {"error": _reply_error(reply)}}  # fmt: skip
                failed.append(line | {"response": response, "error": None})
            else:
                response = {"status_code": 200, "request_id": f"req_{line['id']}",
                            "body": self.renderers[job.endpoint](reply, body)}  # fmt: skip
                done.append(line | {"response": response, "error": None})
        if done:
            job.output_file_id = self._store("batch_output", _jsonl(done))
        if failed:
            job.error_file_id = self._store("batch_output", _jsonl(failed))
        job.counts = {"total": len(job.items), "completed": len(done), "failed": len(failed)}
        late = any(reply.error_type == "expired" for _, _, reply in job.items)
        job.status = "expired" if expired or late else "completed"


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(line) for line in reversed(lines)) + "\n").encode()


def _form_fields(request: RecordedRequest) -> dict[str, tuple[bytes, str]]:
    """A multipart/form-data body's fields: name -> (content, filename)."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    fields: dict[str, tuple[bytes, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (payload, part.get_filename() or "")
    return fields


def _file(file_id: str, purpose: str, content: bytes, filename: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": len(content),
        "created_at": _CREATED,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "expires_at": _CREATED + 30 * 24 * 3600,  # batch files expire after 30 days by default
    }


def _batch(job: FakeBatchJob) -> dict[str, Any]:
    ended = job.status in ("completed", "expired")
    return {
        "id": job.id,
        "object": "batch",
        "endpoint": job.endpoint,
        "errors": None,
        "input_file_id": job.input_file_id,
        "completion_window": "24h",
        "status": job.status,
        "output_file_id": job.output_file_id,
        "error_file_id": job.error_file_id,
        "created_at": _CREATED,
        "in_progress_at": _CREATED + 5 if job.status != "validating" else None,
        "expires_at": _CREATED + 24 * 3600,
        "completed_at": _CREATED + 3600 if job.status == "completed" else None,
        "expired_at": _CREATED + 24 * 3600 if job.status == "expired" else None,
        "finalizing_at": _CREATED + 3500 if ended else None,
        "request_counts": job.counts,
        "metadata": None,
    }


def _reply_error(reply: Reply) -> dict[str, Any]:
    from orchestrate.testing.fake_openai import error_for_reply

    return error_for_reply(reply)


def _not_found(message: str) -> Response:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return Response.json({"error": error}, status=404)


def _invalid(message: str, param: str) -> Response:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    return Response.json({"error": error}, status=400)
