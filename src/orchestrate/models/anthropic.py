"""Claude through the `anthropic` SDK: streamed, prompt-cached, structured output via
`output_config.format`.

The SDK sends `anthropic-version: 2026-10-21`, under which temperature, top_p and top_k are
removed for every model (https://platform.claude.com/docs/en/api/versioning): none is ever sent.
Claude 5.x refuses forced tool use where thinking is on (Opus 5.5, Sonnet 5.5, Fable 5.1), so
structured output goes through `output_config.format` with a JSON schema made by the SDK's own
`transform_schema` (https://platform.claude.com/docs/en/build-with-claude/structured-outputs).
Thinking blocks come before the text: blocks are told apart by type, thinking is never the answer,
and its tokens are in `usage.output_tokens` already (billed as output).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2
from anthropic.types import (
    AssistantMessageParam,
    MessageContentParam,
    MessageParam,
    OutputConfigParam,
    TextBlockParam,
    UserMessageParam,
)
from anthropic.types import Message as AnthropicMessage
from anthropic.types import Usage as AnthropicUsage

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import (
    MissingCredentialsError,
    NotStreamedError,
    StreamInterruptedError,
)
from orchestrate.models.base import (
    Message,
    Model,
    ModelRequest,
    ModelResponse,
    TokenCallback,
    Usage,
)
from orchestrate.models.stream_framing import not_streamed, require_event_stream
from orchestrate.routing.failures import (
    Failure,
    FailureKind,
    classify_status,
    classify_transport,
)

if TYPE_CHECKING:
    from orchestrate.batching.api import BatchApi

DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
_MAX_CACHE_BREAKPOINTS = 4
"""Anthropic rejects requests with more cache_control blocks than this; the system prompt takes one."""
_EPHEMERAL: Any = {"type": "ephemeral"}
_CHECK_TIMEOUT_S = 15.0
_STATUS_BY_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status Anthropic pairs with each error type."""

# What a stream can raise mid-read: the SDK wraps only errors before the response starts.
_STREAM_ERRORS = (
    anthropic.AnthropicError,
    httpx2.TransportError,
    json.JSONDecodeError,
    TimeoutError,
)


class AnthropicModel(Model):
    """One Claude model behind the Messages API; never retries by itself (the router does)."""

    def __init__(self, provider: str, name: str, endpoint: EndpointConfig, api_key: str) -> None:
        self.provider = provider
        self.name = name
        self.tier = endpoint.tier
        # base_url None lets the SDK read ANTHROPIC_BASE_URL itself.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=endpoint.base_url, max_retries=0
        )

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """Stream one answer, passing text (or tool JSON) deltas to `on_token` as they arrive."""
        started = time.monotonic()
        streamed = False
        try:
            async with asyncio.timeout(request.settings.timeout):
                async with self._client.messages.stream(**self._params(request)) as stream:
                    require_event_stream(self.ref, stream.response.headers.get("content-type"))
                    async for event in stream:
                        piece = _delta_text(event)
                        if piece:
                            streamed = True
                            if on_token is not None:
                                on_token(piece)
                    message = await stream.get_final_message()
        except _STREAM_ERRORS as error:
            if streamed:
                raise StreamInterruptedError(
                    f"{self.ref} broke off mid-answer ({type(error).__name__}); "
                    "the partial output was discarded, retry the call"
                ) from error
            raise
        return answer_of(message, time.monotonic() - started)

    def batch_params(self, request: ModelRequest) -> dict[str, Any]:
        """The same request as one entry of a Message Batch (a body has no client timeout)."""
        params = self._params(request)
        del params["timeout"]
        return params

    def batch_api(self) -> BatchApi:
        """This model through Anthropic's Message Batches API, with this model's own client."""
        from orchestrate.models.anthropic_batch import AnthropicBatchApi

        return AnthropicBatchApi(self, self._client)

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        settings = request.settings
        params: dict[str, Any] = {
            "model": self.name,
            "max_tokens": settings.max_tokens,
            "messages": _messages(request.messages),
            "timeout": settings.timeout,
        }
        if request.system:
            system: TextBlockParam = {
                "type": "text",
                "text": request.system,
                "cache_control": _EPHEMERAL,
            }
            params["system"] = [system]
        if settings.stop:
            params["stop_sequences"] = list(settings.stop)
        output_config = _output_config(request)
        if output_config:
            params["output_config"] = output_config
        return params

    def classify(self, error: BaseException) -> Failure | None:
        """Anthropic statuses, transport failures, cut streams and garbled bodies."""
        if isinstance(error, StreamInterruptedError):
            return Failure(FailureKind.RETRY, "cut_stream", str(error))
        if isinstance(error, NotStreamedError):
            return not_streamed(error)
        if isinstance(error, anthropic.APIStatusError):
            return _classify_status_error(error)
        if isinstance(error, json.JSONDecodeError | anthropic.APIResponseValidationError):
            return Failure(FailureKind.RETRY, "malformed_response", f"unreadable response: {error}")
        if isinstance(error, anthropic.APIConnectionError | httpx2.TransportError | TimeoutError):
            return classify_transport(error) or Failure(
                FailureKind.RETRY, "connection", f"connection failed: {error}"
            )
        return None

    async def check(self) -> str:
        """Look the model up in the Models API; raises the SDK's error if it is unknown or the key is bad."""
        info = await self._client.models.retrieve(self.name, timeout=_CHECK_TIMEOUT_S)
        window = f", {info.max_input_tokens} token context" if info.max_input_tokens else ""
        return f"{info.display_name} ({info.id}){window}"

    async def aclose(self) -> None:
        """Close the SDK client's connections."""
        await self._client.close()


def build(provider: str, name: str, endpoint: EndpointConfig) -> Model:
    """An `AnthropicModel`, or MissingCredentialsError if the endpoint's key variable is unset."""
    key_env = endpoint.api_key_env or DEFAULT_KEY_ENV
    api_key = os.environ.get(key_env)
    if not api_key:
        raise MissingCredentialsError(f"{provider}:{name} needs an API key: set {key_env}")
    return AnthropicModel(provider, name, endpoint, api_key)


def _messages(messages: tuple[Message, ...]) -> list[MessageParam]:
    """Turns in Anthropic's shape; only the last few cache marks are kept, to stay under the limit."""
    marked = [i for i, m in enumerate(messages) if m.cache][-(_MAX_CACHE_BREAKPOINTS - 1) :]
    out: list[MessageParam] = []
    for index, message in enumerate(messages):
        content: MessageContentParam = message.content
        if index in marked:
            content = [{"type": "text", "text": message.content, "cache_control": _EPHEMERAL}]
        if message.role == "user":
            out.append(UserMessageParam(role="user", content=content))
        else:
            out.append(AssistantMessageParam(role="assistant", content=content))
    return out


def _output_config(request: ModelRequest) -> OutputConfigParam:
    """Effort and, for structured requests, the JSON schema the answer must follow."""
    config: OutputConfigParam = {}
    if request.settings.effort is not None:
        config["effort"] = request.settings.effort  # type: ignore[typeddict-item]  # checked by the router
    if request.output_schema is not None:
        schema = anthropic.transform_schema(request.output_schema)
        config["format"] = {"type": "json_schema", "schema": schema}
    return config


def _delta_text(event: Any) -> str:
    """The answer text a stream event adds; thinking deltas are not the answer."""
    if event.type == "text":
        return str(event.text)
    return ""


def _blocks_text(message: AnthropicMessage, kind: str) -> str:
    """The text of every content block of one type, in order (`text` for the answer, which is the
    JSON document for structured requests; `thinking` for the thinking)."""
    if kind == "thinking":
        return "".join(block.thinking for block in message.content if block.type == "thinking")
    return "".join(block.text for block in message.content if block.type == "text")


def _usage(usage: AnthropicUsage) -> Usage:
    """Anthropic's input_tokens already excludes cached tokens, as ours does."""
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_input_tokens or 0,
        cache_write_tokens=usage.cache_creation_input_tokens or 0,
    )


def answer_of(message: AnthropicMessage, latency_s: float) -> ModelResponse:
    """Our answer from a Message: its text (thinking apart) and its usage."""
    return ModelResponse(
        text=_blocks_text(message, "text"),
        thinking=_blocks_text(message, "thinking"),
        usage=_usage(message.usage),
        model=message.model,
        latency_s=latency_s,
    )


def failure_of_type(error_type: str, message: str) -> Failure:
    """What an error of Anthropic's `type` means for routing (a batch result names only that)."""
    return classify_status(_STATUS_BY_TYPE.get(error_type, 500), message)


def _classify_status_error(error: anthropic.APIStatusError) -> Failure:
    message = error.api_message or error.message
    status = error.status_code
    if status < 400:
        # An `error` event inside a 200 stream names its kind only by type.
        status = _STATUS_BY_TYPE.get(str(error.type), 500)
    return classify_status(status, message, error.response.headers.get("retry-after"))
