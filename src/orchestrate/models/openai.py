"""OpenAI models: OpenAI's cloud through the Responses API (`openai_responses`), OpenAI-compatible
local servers (vLLM, llama-server, LM Studio) through chat completions, which they serve.

A local server's `reasoning_content` (vLLM, llama-server and LM Studio send a thinking model's
reasoning there) is kept apart from the answer; its tokens are already in `completion_tokens`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import TYPE_CHECKING

import openai
from openai import omit
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import (
    ConfigError,
    MissingCredentialsError,
    NotStreamedError,
    StreamInterruptedError,
)
from orchestrate.models.base import Model, ModelRequest, ModelResponse, TokenCallback, Usage
from orchestrate.models.openai_responses import Received, stream_response
from orchestrate.models.openai_schema import strict_compatible, strict_format
from orchestrate.models.stream_framing import not_streamed, require_event_stream
from orchestrate.routing.failures import (
    Failure,
    FailureKind,
    classify_status,
    classify_transport,
)

if TYPE_CHECKING:
    from orchestrate.batching.api import BatchApi

_PLACEHOLDER_KEY = "no-key"
"""Local servers ignore the key, but the SDK refuses to start without one."""
_DEFAULT_KEY_ENV = "OPENAI_API_KEY"
_CHECK_TIMEOUT_S = 10.0


def build(provider: str, name: str, endpoint: EndpointConfig) -> Model:
    """Backend entry point for `registry.infer_model`."""
    return OpenAIModel(provider, name, endpoint)


class OpenAIModel(Model):
    """One model behind OpenAI's Responses API or an OpenAI-compatible chat-completions
    endpoint, always streamed."""

    def __init__(self, provider: str, name: str, endpoint: EndpointConfig) -> None:
        self.provider = provider
        self.name = name
        self.tier = endpoint.tier
        self.api = endpoint.api or ("responses" if endpoint.tier == "cloud" else "chat")
        """Which API is called: OpenAI's own cloud serves its models through Responses."""
        self._client = openai.AsyncOpenAI(
            api_key=_api_key(f"{provider}:{name}", endpoint),
            base_url=endpoint.base_url,  # None: the SDK reads OPENAI_BASE_URL
            max_retries=0,  # the router owns retries and fallbacks
        )

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """Stream one chat completion; an error after the first token becomes StreamInterruptedError."""
        started = time.monotonic()
        received = Received(on_token)
        try:
            await self._stream_in_time(request, received)
        except (openai.APIError, json.JSONDecodeError, TimeoutError) as error:
            if received.parts:
                raise StreamInterruptedError(
                    f"{self.ref} broke off mid-answer ({error}); the partial output was discarded"
                ) from error
            raise
        return ModelResponse(
            text="".join(received.parts),
            thinking="".join(received.thinking),
            usage=received.usage,
            model=received.model or self.name,
            latency_s=time.monotonic() - started,
        )

    async def _stream_in_time(self, request: ModelRequest, received: Received) -> None:
        # One cap on the whole call: the SDK's own timeout bounds each socket wait, so a slow
        # trickle of tokens would never trip it.
        timeout = request.settings.timeout
        try:
            async with asyncio.timeout(timeout):
                if self.api == "responses":
                    await stream_response(self._client, self.ref, self.name, request, received)
                else:
                    await self._stream(request, received)
        except TimeoutError as error:
            raise TimeoutError(f"{self.ref} did not finish within {timeout:g} s") from error

    async def _stream(self, request: ModelRequest, received: Received) -> None:
        settings = request.settings
        # OpenAI deprecated `max_tokens` and its reasoning models reject it, while local servers
        # (older vLLM, llama.cpp, LM Studio) may ignore `max_completion_tokens` and run unbounded.
        cloud = self.tier == "cloud"
        stream = await self._client.chat.completions.create(
            model=self.name,
            messages=_messages(request),
            stream=True,
            stream_options={"include_usage": True},
            max_completion_tokens=settings.max_tokens if cloud else omit,
            max_tokens=omit if cloud else settings.max_tokens,
            temperature=omit if settings.temperature is None else settings.temperature,
            stop=list(settings.stop) if settings.stop else omit,
            response_format=omit if request.output_schema is None else _response_format(request),
        )
        async with stream:
            require_event_stream(self.ref, stream.response.headers.get("content-type"))
            async for chunk in stream:
                _add_chunk(received, chunk)
        if not received.events:
            raise openai.APIResponseValidationError(
                stream.response, None, message=f"{self.ref} answered a stream without any chunk"
            )

    def classify(self, error: BaseException) -> Failure | None:
        """Map SDK errors onto routing decisions; statuses and body text follow the shared rules."""
        if isinstance(error, StreamInterruptedError):
            return Failure(FailureKind.RETRY, "cut_stream", str(error))
        if isinstance(error, NotStreamedError):
            return not_streamed(error)
        if isinstance(error, openai.APIStatusError):
            retry_after = error.response.headers.get("retry-after")
            return classify_status(error.status_code, _describe(error), retry_after)
        if isinstance(error, openai.APIResponseValidationError | json.JSONDecodeError):
            return Failure(FailureKind.RETRY, "malformed_response", f"malformed response: {error}")
        if isinstance(error, openai.APIConnectionError | TimeoutError):
            # classify_transport knows the builtin causes; the SDK's httpx2 errors it may not.
            failure = classify_transport(error)
            return failure or Failure(
                FailureKind.RETRY, "connection", f"connection failed: {error}"
            )
        if isinstance(error, openai.APIError):
            # An error event inside a 200 stream: the server failed while generating.
            return classify_status(500, _describe(error))
        return None

    def batch_api(self) -> BatchApi | None:
        """OpenAI's Batch API for a model served through the Responses API (OpenAI's cloud);
        None for chat-completions servers (local ones have no Batch API)."""
        if self.api != "responses":
            return None
        from orchestrate.models.openai_batch import OpenAIBatchApi

        return OpenAIBatchApi(self.name, self._client)

    async def check(self) -> str:
        """List the endpoint's models and confirm this one is among them."""
        served = [m.id async for m in self._client.models.list(timeout=_CHECK_TIMEOUT_S)]
        if self.name not in served:
            listed = ", ".join(served[:10]) or "no models"
            raise ConfigError(
                f"{self.ref}: the endpoint at {self._client.base_url} does not serve {self.name!r} "
                f"(it lists {listed}); fix the model name or load the model on the server"
            )
        return f"{self.name} is served ({len(served)} models listed)"

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()


def _add_chunk(received: Received, chunk: ChatCompletionChunk) -> None:
    received.events += 1
    received.model = chunk.model or received.model
    if chunk.usage is not None:
        received.usage = _usage(chunk.usage)
    for choice in chunk.choices:
        # Thinking models on local servers stream their reasoning in a field the SDK does not
        # declare; it is never the answer.
        reasoning = (choice.delta.model_extra or {}).get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            received.thinking.append(reasoning)
        # A refusal is kept as text so the schema check that follows reports it.
        received.answer(choice.delta.content or choice.delta.refusal or "")


def _api_key(ref: str, endpoint: EndpointConfig) -> str:
    env = endpoint.api_key_env
    if endpoint.tier == "cloud":
        env = env or _DEFAULT_KEY_ENV
        key = os.environ.get(env)
        if not key:
            raise MissingCredentialsError(f"{ref} needs an API key: set {env}")
        return key
    return (os.environ.get(env) if env else None) or _PLACEHOLDER_KEY


def _messages(request: ModelRequest) -> list[ChatCompletionMessageParam]:
    # OpenAI caches long prompt prefixes on its own, so `Message.cache` needs no marker here.
    messages: list[ChatCompletionMessageParam] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        if message.role == "user":
            messages.append({"role": "user", "content": message.content})
        else:
            messages.append({"role": "assistant", "content": message.content})
    return messages


def _response_format(request: ModelRequest) -> ResponseFormatJSONSchema:
    if request.output_type is not None:
        return strict_format(request.output_type)
    schema = request.output_schema or {}
    return {
        "type": "json_schema",
        "json_schema": {
            "name": request.schema_name,
            "schema": schema,
            "strict": schema.get("type") == "object" and strict_compatible(schema),
        },
    }


def _usage(usage: CompletionUsage) -> Usage:
    # OpenAI's prompt_tokens includes the cached tokens; ours excludes them.
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details is not None else 0
    return Usage(
        input_tokens=usage.prompt_tokens - cached,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=cached,
    )


def failure_of_body(status: int, error: dict[str, object]) -> Failure:
    """What an error body (a batch's error line carries one) means for routing."""
    message = str(error.get("message") or "no message")
    tags = [str(tag) for tag in (error.get("code"), error.get("type")) if tag]
    return classify_status(status, f"{message} ({', '.join(tags)})" if tags else message)


def _describe(error: openai.APIError) -> str:
    """The message with the error code and type, which carry what the prose may not say."""
    tags = [tag for tag in (error.code, error.type) if tag]
    return f"{error.message} ({', '.join(tags)})" if tags else error.message
