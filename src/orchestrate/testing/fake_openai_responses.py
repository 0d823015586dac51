"""OpenAI's Responses API (`POST /v1/responses`) for `FakeOpenAI`, streamed or not, as the real
`openai` SDK parses it, with the refusals OpenAI documents for its reasoning models.

- Reasoning models (gpt-5*, gpt-6*, o-series) take no `temperature`/`top_p`: 400
  `unsupported_parameter` (https://developers.openai.com/api/docs/guides/reasoning).
- gpt-6.2-sol rejects `reasoning.effort: none`; gpt-6.1-sol rejects `none` and `minimal`: 400
  `unsupported_value` (https://developers.openai.com/api/docs/models/gpt-6.2-sol).
Usage carries cached reads, cache writes and reasoning tokens in OpenAI's own shape; a reply's
`thinking` streams as a reasoning summary before the answer.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from orchestrate.testing.fake_server import Reply, Response

REASONING_MODELS = re.compile(r"^(gpt-5|gpt-6|o\d)")
"""Model names OpenAI serves as reasoning models."""
REJECTED_EFFORTS: dict[str, tuple[str, ...]] = {
    "gpt-6.2-sol": ("none",),
    "gpt-6.1-sol": ("none", "minimal"),
}
SAMPLING = ("temperature", "top_p")
_PIECES = re.compile(r"\S+\s*|\s+")
_ids = itertools.count(1)


def error(message: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    """An OpenAI error object."""
    return {"message": message, "type": "invalid_request_error", "param": param, "code": code}


def refusal_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """The 400 error OpenAI answers a Responses (or chat) request with, or None."""
    model = str(body.get("model", ""))
    if REASONING_MODELS.match(model):
        for name in (*SAMPLING, "max_tokens"):
            if body.get(name) is not None:
                text = f"Unsupported parameter: '{name}' is not supported with this model."
                return error(text, "unsupported_parameter", name)
    effort = (body.get("reasoning") or {}).get("effort") or body.get("reasoning_effort")
    if effort in REJECTED_EFFORTS.get(model, ()):
        text = f"Unsupported value: 'reasoning.effort' does not support '{effort}' with this model."
        return error(text, "unsupported_value", "reasoning.effort")
    return None


def usage(reply: Reply) -> dict[str, Any]:
    """Responses usage: input_tokens count cached reads and cache writes too."""
    prompt = reply.input_tokens + reply.cache_read_tokens + reply.cache_write_tokens
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": reply.cache_read_tokens,
            "cache_write_tokens": reply.cache_write_tokens,
        },
        "output_tokens": reply.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        "total_tokens": prompt + reply.output_tokens,
    }


def _response(reply: Reply, model: str, status: str = "completed") -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if reply.thinking:
        summary = [{"type": "summary_text", "text": reply.thinking}]
        output.append({"id": f"rs_fake{next(_ids)}", "type": "reasoning", "summary": summary})
    text = {"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}
    message = {
        "id": f"msg_fake{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [text],
    }
    output.append(message)
    return {
        "id": f"resp_fake{next(_ids)}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage(reply) if status == "completed" else None,
    }


def response_body(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    """The Response a request `body` gets from `reply` (a batch's output line carries one)."""
    return _response(reply, reply.model or str(body.get("model", "")))


def render(reply: Reply, model: str, streaming: bool) -> Response:
    """A scripted reply as a Responses answer."""
    headers = {"content-type": "application/json", **reply.headers}
    if not streaming:
        body = json.dumps(_response(reply, model)).encode()
        return Response(body=body, headers=headers, delay_s=reply.delay_s)
    headers["content-type"] = "text/event-stream"
    return Response(
        headers=headers,
        chunks=_events(reply, model),
        cut_after_chunks=reply.cut_after_chunks,
        delay_s=reply.delay_s,
    )


def _sse(payload: dict[str, Any], sequence: itertools.count[int]) -> bytes:
    payload = {**payload, "sequence_number": next(sequence)}
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


def _events(reply: Reply, model: str) -> list[bytes]:
    """created, reasoning summary deltas, one text delta per word, then completed (or an error)."""
    sequence = itertools.count()
    final = _response(reply, model)
    events = [
        _sse(
            {"type": "response.created", "response": _response(reply, model, "in_progress")},
            sequence,
        )
    ]
    item = final["output"][-1]["id"]
    if reply.thinking:
        reasoning_id = final["output"][0]["id"]
        for piece in _PIECES.findall(reply.thinking):
            delta = {"item_id": reasoning_id, "output_index": 0, "summary_index": 0, "delta": piece}
            events.append(
                _sse({"type": "response.reasoning_summary_text.delta", **delta}, sequence)
            )
    index = len(final["output"]) - 1
    for piece in _PIECES.findall(reply.text):
        delta = {"item_id": item, "output_index": index, "content_index": 0, "delta": piece}
        events.append(
            _sse({"type": "response.output_text.delta", "logprobs": [], **delta}, sequence)
        )
    if reply.error:
        body = {"type": "error", "code": reply.error_type or "server_error", "message": reply.error}
        events.append(_sse(body, sequence))
        return events
    events.append(_sse({"type": "response.completed", "response": final}, sequence))
    return events
