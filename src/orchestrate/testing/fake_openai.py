"""A fake OpenAI server (also standing in for vLLM, llama.cpp server and LM Studio).

It answers `POST /v1/responses` (see `fake_openai_responses`) and `POST /v1/chat/completions`,
plain or streamed as server-sent events, and `GET /v1/models`, in the wire format the real `openai`
SDK parses. Reasoning models refuse what OpenAI documents they refuse (sampling, `max_tokens`, an
effort they do not take) with a 400 before any scripted reply is used. On chat completions a
reply's `thinking` streams as `reasoning_content`, as vLLM, llama-server and LM Studio send it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from typing import Any

from orchestrate.testing import fake_openai_responses as responses_api
from orchestrate.testing.fake_openai_batches import OpenAIBatches, Renderer
from orchestrate.testing.fake_server import FakeServer, RecordedRequest, Reply, Response

_ERROR_TYPES = {
    "insufficient_quota": "insufficient_quota",
    "rate_limit_exceeded": "tokens",
}
"""OpenAI's `type` for error codes whose type is not `invalid_request_error`."""

_PIECES = re.compile(r"\S+\s*|\s+")
"""Streamed text is cut into words with their trailing space, like a tokenizer would roughly do."""


class FakeOpenAI(FakeServer):
    """Renders scripted `Reply`s as OpenAI chat completions.

    Streaming sends one SSE event per word (the first also carries the role), then a finish event,
    then a usage event when `stream_options.include_usage` is set, then `data: [DONE]`; so
    `cut_after_chunks=1` drops the connection right after the first token.
    A 200 reply with `error` set sends that error as an event inside the stream (streaming only),
    as OpenAI and vLLM do when generation fails midway.
    """

    def __init__(self, served_models: Iterable[str] | None = None) -> None:
        super().__init__()
        self.served_models: list[str] | None = (
            None if served_models is None else list(served_models)
        )
        """Model ids the server serves; others get a 404 `model_not_found`. None serves any model
        and lists the ones asked for so far."""
        self._seen_models: dict[str, None] = {}
        renderers: dict[str, Renderer] = {
            "/v1/chat/completions": completion_body,
            "/v1/responses": responses_api.response_body,
        }
        self.batches = OpenAIBatches(self, renderers, responses_api.refusal_of)
        """The Files and Batch APIs (`fake_openai_batches`)."""

    @property
    def base_url(self) -> str:
        """The URL an OpenAI client takes as `base_url` (with the `/v1` prefix)."""
        return f"{self.url}/v1"

    def handle(self, request: RecordedRequest) -> Response:
        """Route by method and path; unknown routes get OpenAI's own 404 shape."""
        path = request.path.split("?", 1)[0]
        if request.method == "POST" and path.endswith("/chat/completions"):
            return self._chat(request)
        if request.method == "POST" and path.endswith("/responses"):
            return self._responses(request)
        if request.method == "GET" and path.endswith("/models"):
            return self._models()
        batch = self.batches.handle(request, path)
        if batch is not None:
            return batch
        message = f"Invalid URL ({request.method} {path})"
        return _error_response(404, _error(message, "invalid_request_error", None))

    def _models(self) -> Response:
        ids = self.served_models if self.served_models is not None else list(self._seen_models)
        data = [{"id": i, "object": "model", "created": 0, "owned_by": "fake"} for i in ids]
        return Response.json({"object": "list", "data": data})

    def _admit(self, request: RecordedRequest) -> Response | Reply:
        """The model-not-found or refusal answer, else the scripted reply to render."""
        body: dict[str, Any] = request.json()
        model = str(body.get("model", ""))
        self._seen_models[model] = None
        if self.served_models is not None and model not in self.served_models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return _error_response(404, _error(message, "invalid_request_error", "model_not_found"))
        refusal = responses_api.refusal_of(body)
        if refusal is not None:
            return _error_response(400, refusal)
        reply = self.next_reply(request)
        if reply.status != 200:
            response = _error_response(reply.status, _reply_error(reply), reply.headers)
            response.delay_s = reply.delay_s
            return response
        return reply

    def _responses(self, request: RecordedRequest) -> Response:
        admitted = self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        body: dict[str, Any] = request.json()
        model = admitted.model or str(body.get("model", ""))
        return responses_api.render(
            admitted, model, bool(body.get("stream")) and not admitted.unstreamed
        )

    def _chat(self, request: RecordedRequest) -> Response:
        admitted = self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        reply = admitted
        body: dict[str, Any] = request.json()
        answered = reply.model or str(body.get("model", ""))
        if not body.get("stream") or reply.unstreamed:
            return _render_completion(reply, answered)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return _render_stream(reply, answered, include_usage)


def _error(message: str, error_type: str, code: str | None) -> dict[str, Any]:
    return {"message": message, "type": error_type, "param": None, "code": code}


def _error_response(
    status: int, error: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    return Response.json({"error": error}, status=status, headers=headers)


def error_for_reply(reply: Reply) -> dict[str, Any]:
    """The `error` object OpenAI answers a failed call with (a batch's error file carries it)."""
    return _reply_error(reply)


def _reply_error(reply: Reply) -> dict[str, Any]:
    if reply.error_type in _ERROR_TYPES:
        error_type = _ERROR_TYPES[reply.error_type]
    elif reply.status >= 500:
        error_type = "server_error"
    else:
        error_type = "invalid_request_error"
    return _error(reply.error or f"fake error {reply.status}", error_type, reply.error_type)


def _usage(reply: Reply) -> dict[str, Any]:
    # OpenAI's prompt_tokens includes the cached part; cached_tokens says how much of it was cached.
    prompt = reply.input_tokens + reply.cache_read_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": reply.output_tokens,
        "total_tokens": prompt + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cache_read_tokens},
    }


def completion_body(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    """A chat completion answering `body` (the request) with `reply`."""
    message = {"role": "assistant", "content": reply.text, "refusal": None}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model or str(body.get("model", "")),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(reply),
    }


def _render_completion(reply: Reply, model: str) -> Response:
    headers = {"content-type": "application/json", **reply.headers}
    if reply.malformed:
        return Response(body=b'{"id": "chatcmpl-fake", "choices": [', headers=headers)
    payload = completion_body(reply, {"model": model})
    return Response(body=json.dumps(payload).encode(), headers=headers, delay_s=reply.delay_s)


def _render_stream(reply: Reply, model: str, include_usage: bool) -> Response:
    headers = {"content-type": "text/event-stream", "cache-control": "no-cache", **reply.headers}
    return Response(
        headers=headers,
        chunks=_stream_events(reply, model, include_usage),
        cut_after_chunks=reply.cut_after_chunks,
        delay_s=reply.delay_s,
    )


def _stream_events(reply: Reply, model: str, include_usage: bool) -> list[bytes]:
    if reply.malformed:
        return [b'data: {"id": "chatcmpl-fake", "choices": [\n\n', b"data: [DONE]\n\n"]
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time())}
    base["model"] = model
    if include_usage:
        base["usage"] = None  # as OpenAI does: every chunk but the last has a null usage

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return b"data: %s\n\n" % json.dumps({**base, "choices": [choice], **extra}).encode()

    pieces = _PIECES.findall(reply.text) or [""]
    thinking = [
        event({"role": "assistant", "reasoning_content": p})
        for p in _PIECES.findall(reply.thinking)
    ]
    events = [*thinking, event({"role": "assistant", "content": pieces[0]})]
    events.extend(event({"content": piece}) for piece in pieces[1:])
    if reply.error:
        events.append(b"data: %s\n\n" % json.dumps({"error": _reply_error(reply)}).encode())
        return events
    events.append(event({}, "stop"))
    if include_usage:
        usage_event = {**base, "choices": [], "usage": _usage(reply)}
        events.append(b"data: %s\n\n" % json.dumps(usage_event).encode())
    events.append(b"data: [DONE]\n\n")
    return events
