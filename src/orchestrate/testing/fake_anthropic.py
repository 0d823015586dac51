"""A loopback stand-in for the Anthropic Messages API that the real `anthropic` SDK can talk to.

Serves `POST /v1/messages` (JSON, or server-sent events when the body asks to stream) and
`GET /v1/models[/{id}]`. Streams follow the real event order: message_start, content_block_start,
ping, one content_block_delta per word, content_block_stop, message_delta, message_stop; each event
is one chunk, so `Reply.cut_after_chunks=HEADER_CHUNKS + 1` cuts the stream after its first token.
An error reply with `cut_after_chunks` set is sent the way Anthropic fails mid-stream: HTTP 200, that
many events, then an `error` event.

Requests are checked as Anthropic documents them, before any scripted reply is used:
- under `anthropic-version: 2026-10-21` (what the anthropic 2.x SDK sends) `temperature`, `top_p`
  and `top_k` are removed for every model: any value is a 400 "temperature: Extra inputs are not
  permitted" (https://platform.claude.com/docs/en/api/versioning);
- under `2023-06-01`, Claude 5.x refuses non-default sampling values (Sonnet 5 page:
  https://platform.claude.com/docs/zh-CN/models/sonnet-5/overview);
- forced tool use (`tool_choice` of type `tool` or `any`) is a 400 for the families documented to
  refuse it (Opus 5.5, Sonnet 5.5, Fable 5.1: https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5).
A reply with `thinking` set streams a thinking block before the text, as Claude 5.x does.
`output_config.format` is honoured: the answer (the scripted JSON) comes back as a text block.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from orchestrate.testing.fake_anthropic_batches import AnthropicBatches
from orchestrate.testing.fake_server import FakeServer, RecordedRequest, Reply, Response

HEADER_CHUNKS = 3
"""Events sent before the first content delta (message_start, content_block_start, ping)."""

DEFAULT_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
"""Anthropic's documented `error.type` for each status."""

DEFAULT_MODELS = (
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "claude-opus-5-5",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
)
"""Models the fake serves unless told otherwise."""

API_VERSION_2026 = "2026-10-21"
SAMPLING = ("temperature", "top_p", "top_k")
NO_FORCED_TOOLS = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-fable-5-1")
"""Families documented to refuse forced tool use (thinking cannot be turned off for them)."""
_CLAUDE_5 = re.compile(r"^claude-[a-z]+-5(?:-|$)")

_ids = itertools.count(1)
_WORDS = re.compile(r"\s*\S+\s*|\s+")


def error_type_for(status: int) -> str:
    """The error type Anthropic reports for a status."""
    fallback = "api_error" if status >= 500 else "invalid_request_error"
    return DEFAULT_ERROR_TYPES.get(status, fallback)


def error_body(status: int, message: str, error_type: str | None = None) -> dict[str, Any]:
    """An error body in Anthropic's format."""
    return {
        "type": "error",
        "error": {"type": error_type or error_type_for(status), "message": message},
        "request_id": f"req_fake{next(_ids):06d}",
    }


class FakeAnthropic(FakeServer):
    """Answers Messages API calls from the reply script; model lookups from `models`."""

    HEADER_CHUNKS = HEADER_CHUNKS

    def __init__(self, models: tuple[str, ...] = DEFAULT_MODELS) -> None:
        super().__init__()
        self.models: list[str] = list(models)
        """Model ids `GET /v1/models` knows; others get a 404."""
        self.batches = AnthropicBatches(self)
        """The Message Batches API (`fake_anthropic_batches`)."""

    def reset(self) -> None:
        """Forget requests, script and model list, so one server can serve many tests."""
        with self._lock:
            self.requests.clear()
            self.script.clear()
            self.unscripted.clear()
        self.default = None
        self.models = list(DEFAULT_MODELS)
        self.batches = AnthropicBatches(self)

    def handle(self, request: RecordedRequest) -> Response:
        """Route one request to the Messages or Models API."""
        path = request.path.split("?", 1)[0]
        if request.method == "POST" and path == "/v1/messages":
            return self._messages(request)
        if request.method == "GET" and path == "/v1/models":
            data = [_model_info(model) for model in self.models]
            first, last = (self.models[0], self.models[-1]) if self.models else (None, None)
            page = {"data": data, "has_more": False, "first_id": first, "last_id": last}
            return Response.json(page)
        if request.method == "GET" and path.startswith("/v1/models/"):
            model = unquote(path.removeprefix("/v1/models/"))
            if model in self.models:
                return Response.json(_model_info(model))
            return Response.json(error_body(404, f"model: {model}"), status=404)
        batch = self.batches.handle(request, path)
        if batch is not None:
            return batch
        return Response.json(error_body(404, f"Not found: {request.method} {path}"), status=404)

    def _messages(self, request: RecordedRequest) -> Response:
        params: dict[str, Any] = request.json()
        refusal = refusal_of(request.headers.get("anthropic-version", ""), params)
        if refusal is not None:
            # Validation happens before any generation: no scripted reply is used up.
            return Response.json(error_body(400, refusal), status=400)
        reply = self.next_reply(request)
        streaming = bool(params.get("stream")) and not reply.unstreamed
        if reply.status != 200 and streaming and reply.cut_after_chunks is not None:
            return _stream_then_error(reply, params)
        if reply.status != 200:
            body = error_body(reply.status, reply.error, reply.error_type)
            return Response(
                status=reply.status,
                body=json.dumps(body).encode(),
                headers={"content-type": "application/json", **reply.headers},
                delay_s=reply.delay_s,
            )
        if reply.malformed:
            return _malformed(reply, streaming)
        message = _message(reply, params)
        if not streaming:
            return Response(
                body=json.dumps(message).encode(),
                headers={"content-type": "application/json", **reply.headers},
                delay_s=reply.delay_s,
            )
        return Response(
            headers={"content-type": "text/event-stream; charset=utf-8", **reply.headers},
            chunks=_sse(message),
            cut_after_chunks=reply.cut_after_chunks,
            delay_s=reply.delay_s,
        )


def refusal_of(version: str, params: dict[str, Any]) -> str | None:
    """The 400 message Anthropic answers this request with, or None if it is accepted."""
    model = str(params.get("model", ""))
    sent = [name for name in SAMPLING if name in params]
    if sent and version == API_VERSION_2026:
        return f"{sent[0]}: Extra inputs are not permitted"
    if _CLAUDE_5.match(model):
        odd = [n for n in sent if not (n == "temperature" and params[n] == 1.0)]
        if odd:
            return f"{odd[0]}: non-default sampling parameters are not supported on this model"
    if _forced_tool(params) is not None and model.startswith(NO_FORCED_TOOLS):
        return "Thinking may not be enabled when tool_choice forces tool use."
    return None


def _forced_tool(params: dict[str, Any]) -> str | None:
    """The tool name the request forces the model to call, if it forces one."""
    tools: list[dict[str, Any]] = params.get("tools") or []
    choice: dict[str, Any] = params.get("tool_choice") or {}
    if not tools or choice.get("type") not in ("tool", "any"):
        return None
    name = choice.get("name") if choice["type"] == "tool" else tools[0].get("name")
    return str(name)


def _message(reply: Reply, params: dict[str, Any]) -> dict[str, Any]:
    tool = _forced_tool(params)
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        signature = f"sig_fake{next(_ids):06d}"
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": signature})
    if tool is None:
        blocks.append({"type": "text", "text": reply.text})
    else:
        blocks.append(
            {
                "type": "tool_use",
                "id": f"toolu_fake{next(_ids):06d}",
                "name": tool,
                "input": json.loads(reply.text),
            }
        )
    return {
        "id": f"msg_fake{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": reply.model or params.get("model", ""),
        "content": blocks,
        "stop_reason": "end_turn" if tool is None else "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_read_input_tokens": reply.cache_read_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
        },
    }


def message_for(reply: Reply, params: dict[str, Any]) -> dict[str, Any]:
    """The Message a reply renders as, for `params` (a batch result carries one)."""
    return _message(reply, params)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _block_events(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    """One content block as Anthropic streams it: start, deltas a word at a time, stop."""
    if block["type"] == "thinking":
        empty: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        pieces, kind, key = block["thinking"], "thinking_delta", "thinking"
    elif block["type"] == "text":
        empty, pieces, kind, key = {"type": "text", "text": ""}, block["text"], "text_delta", "text"
    else:
        empty = {**block, "input": {}}
        pieces, kind, key = json.dumps(block["input"]), "input_json_delta", "partial_json"
    start = {"type": "content_block_start", "index": index, "content_block": empty}
    yield _event("content_block_start", start)
    if index == 0:
        yield _event("ping", {"type": "ping"})
    for piece in _WORDS.findall(pieces):
        delta = {"type": "content_block_delta", "index": index, "delta": {"type": kind, key: piece}}
        yield _event("content_block_delta", delta)
    if block["type"] == "thinking":
        signed = {"type": "signature_delta", "signature": block["signature"]}
        yield _event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": signed}
        )
    yield _event("content_block_stop", {"type": "content_block_stop", "index": index})


def _sse(message: dict[str, Any]) -> Iterator[bytes]:
    """The message as Anthropic streams it, block by block (thinking first, then the answer)."""
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    yield _event("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(message["content"]):
        yield from _block_events(index, block)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    usage = {"output_tokens": message["usage"]["output_tokens"]}
    yield _event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
    yield _event("message_stop", {"type": "message_stop"})


def _stream_then_error(reply: Reply, params: dict[str, Any]) -> Response:
    """How Anthropic fails mid-stream: a 200, some events, then an `error` event."""
    ok = Reply(text=reply.text or "partial answer", model=reply.model)
    events = list(itertools.islice(_sse(_message(ok, params)), reply.cut_after_chunks))
    events.append(_event("error", error_body(reply.status, reply.error, reply.error_type)))
    return Response(
        headers={"content-type": "text/event-stream; charset=utf-8", **reply.headers},
        chunks=events,
        delay_s=reply.delay_s,
    )


def _malformed(reply: Reply, streaming: bool) -> Response:
    """A 200 whose payload is cut-off JSON, framed as the client expects it (SSE or JSON)."""
    broken = '{"type": "message_start", "message": {"id": "msg_'
    if streaming:
        return Response(
            headers={"content-type": "text/event-stream; charset=utf-8"},
            chunks=[f"event: message_start\ndata: {broken}\n\n".encode()],
            delay_s=reply.delay_s,
        )
    return Response(
        body=broken.encode(), headers={"content-type": "application/json"}, delay_s=reply.delay_s
    )


def _model_info(model: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model,
        "display_name": model.replace("-", " ").title(),
        "created_at": "2025-09-29T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 1_000_000 if _CLAUDE_5.match(model) else 200_000,
        "max_tokens": 128_000 if _CLAUDE_5.match(model) else 64_000,
    }
