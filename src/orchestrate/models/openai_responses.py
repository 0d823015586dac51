"""OpenAI's Responses API, which its current models (GPT-5.x, GPT-6.x) are served through.

https://developers.openai.com/api/docs/models/gpt-6.2-sol: "Use it with the Responses API".
Output is capped with `max_output_tokens`, reasoning steered with `reasoning: {effort}`, and
structured output asked for with a strict JSON schema in `text.format`, made by the SDK's own
strict-schema conversion. Reasoning models take no `temperature`; the router drops it.
Reasoning summaries are kept apart from the answer; reasoning tokens are part of `output_tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import httpx2
import openai
from openai.types.responses import (
    EasyInputMessageParam,
    Response,
    ResponseFormatTextConfigParam,
    ResponseInputParam,
    ResponseStreamEvent,
    ResponseUsage,
)
from openai.types.shared_params import Reasoning

from orchestrate.models.base import ModelRequest, ModelResponse, TokenCallback, Usage
from orchestrate.models.openai_schema import strict_compatible, strict_format
from orchestrate.models.stream_framing import require_event_stream


@dataclass
class Received:
    """What a stream delivered so far (shared by chat completions and Responses streams)."""

    on_token: TokenCallback | None
    parts: list[str] = field(default_factory=list)
    """Answer text, in order."""
    thinking: list[str] = field(default_factory=list)
    """Reasoning text shown apart from the answer."""
    events: int = 0
    model: str = ""
    usage: Usage = field(default_factory=Usage)

    def answer(self, text: str) -> None:
        """Add answer text and stream it."""
        if text:
            self.parts.append(text)
            if self.on_token is not None:
                self.on_token(text)

    def add_event(self, event: ResponseStreamEvent) -> None:
        """Take one Responses stream event; failures raise the SDK's APIError."""
        self.events += 1
        if event.type == "response.output_text.delta":
            self.answer(event.delta)
        elif event.type in (
            "response.reasoning_summary_text.delta",
            "response.reasoning_text.delta",
        ):
            self.thinking.append(event.delta)
        elif event.type in ("response.completed", "response.incomplete"):
            response = event.response
            self.model = response.model or self.model
            if response.usage is not None:
                self.usage = responses_usage(response.usage)
        elif event.type == "response.failed":
            error = event.response.error
            message = error.message if error is not None else "the response failed"
            # The SDK's own error type, so `classify` treats it as a failure mid-generation.
            raise openai.APIError(message, _STREAM_REQUEST, body=None)
        elif event.type == "error":
            raise openai.APIError(f"{event.message} ({event.code})", _STREAM_REQUEST, body=None)


_STREAM_REQUEST = httpx2.Request("POST", "https://api.openai.com/v1/responses")
"""The SDK's APIError names a request; an error event inside a stream has only this one."""


async def stream_response(
    client: openai.AsyncOpenAI, ref: str, name: str, request: ModelRequest, received: Received
) -> None:
    """One streamed Responses call to model `name` (`ref` names it to the user) into `received`."""
    stream = await client.responses.create(**response_params(name, request), stream=True)
    async with stream:
        require_event_stream(ref, stream.response.headers.get("content-type"))
        async for event in stream:
            received.add_event(event)


def response_params(name: str, request: ModelRequest) -> dict[str, Any]:
    """The body of a Responses call for `request`, streamed or (a batch's line) not."""
    settings = request.settings
    params: dict[str, Any] = {
        "model": name,
        "input": _input(request),
        "max_output_tokens": settings.max_tokens,
    }
    if request.system:
        params["instructions"] = request.system
    if settings.temperature is not None:
        params["temperature"] = settings.temperature
    if settings.effort is not None:
        params["reasoning"] = _reasoning(settings.effort)
    if request.output_schema is not None:
        params["text"] = {"format": text_format(request)}
    return params


def answer_of_response(response: Response, latency_s: float) -> ModelResponse:
    """Our answer from a whole Response (a batch's line): its text, reasoning summary apart,
    and its usage."""
    thinking = [
        part.text for item in response.output if item.type == "reasoning" for part in item.summary
    ]
    return ModelResponse(
        text=response.output_text,
        thinking="".join(thinking),
        usage=responses_usage(response.usage) if response.usage is not None else Usage(),
        model=response.model,
        latency_s=latency_s,
    )


def _reasoning(effort: str) -> Reasoning:
    # The router sends only an effort the model's capability row lists.
    return cast(Reasoning, {"effort": effort})


def _input(request: ModelRequest) -> ResponseInputParam:
    # OpenAI caches long prompt prefixes on its own, so `Message.cache` needs no marker here.
    turns: list[EasyInputMessageParam] = [
        {"role": message.role, "content": message.content, "type": "message"}
        for message in request.messages
    ]
    return list(turns)


def text_format(request: ModelRequest) -> ResponseFormatTextConfigParam:
    """The strict JSON-schema format: the SDK's own conversion of the output type when there is
    one (every property required, objects closed), else the schema as given, strict only if it
    already qualifies."""
    if request.output_type is not None:
        spec = strict_format(request.output_type)["json_schema"]
        return {
            "type": "json_schema",
            "name": spec["name"],
            "schema": spec.get("schema", {}),
            "strict": True,
        }
    schema = request.output_schema or {}
    return {
        "type": "json_schema",
        "name": request.schema_name,
        "schema": schema,
        "strict": schema.get("type") == "object" and strict_compatible(schema),
    }


def responses_usage(usage: ResponseUsage) -> Usage:
    """OpenAI's input_tokens include cached reads and cache writes; ours exclude both. Reasoning
    tokens are part of output_tokens (billed as output)."""
    details = usage.input_tokens_details
    cached = details.cached_tokens if details is not None else 0
    written = (details.cache_write_tokens or 0) if details is not None else 0
    return Usage(
        input_tokens=max(0, usage.input_tokens - cached - written),
        output_tokens=usage.output_tokens,
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )
