"""Ollama through its native `/api/chat` (the `/v1` OpenAI route cannot set the context size).

`think` is always sent explicitly: thinking families (Qwen 3.5, Gemma 4) left thinking return
empty answers to constrained prompts, so workers send `think: false`; an agent may ask for
`think: true` where the model can think (qwen3-coder cannot: Ollama answers it 400). Thinking comes
back in `message.thinking`, is kept apart from the answer and never parsed as an edit; its tokens
are in `eval_count` already.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import ollama
import pydantic

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import OrchestrateError, StreamInterruptedError
from orchestrate.models.base import (
    Model,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    TokenCallback,
    Truncation,
    Usage,
)
from orchestrate.routing.failures import (
    Failure,
    FailureKind,
    classify_status,
    classify_transport,
)
from orchestrate.routing.fit import SMALLEST_WINDOW, least_tokens

DEFAULT_NUM_CTX = 8192
"""Context asked for when the settings name none: Ollama's own default (2048-4096) is too small."""
CONNECT_TIMEOUT_S = 10.0
"""Connecting is quick on a local endpoint; whole-call deadlines come from the request settings."""
PROBE_TIMEOUT_S = 10.0
"""Deadline for the listing calls of `check()` and the truncation probe."""

_OUT_OF_MEMORY = re.compile(r"requires more system memory|out of memory", re.IGNORECASE)
_SDK_RESPONSE_TYPES = {"ChatResponse", "ListResponse", "ProcessResponse", "ProgressResponse"}
_STREAM_ERRORS = (
    ollama.ResponseError,
    httpx.TransportError,
    TimeoutError,
    json.JSONDecodeError,
    pydantic.ValidationError,
)


def _same_model(listed: str | None, wanted: str) -> bool:
    """Ollama names without a tag mean `:latest`."""

    def tagged(name: str) -> str:
        return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"

    return listed is not None and tagged(listed) == tagged(wanted)


@dataclass
class _Stream:
    """What has arrived so far of one streamed answer."""

    on_token: TokenCallback | None
    pieces: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    final: ollama.ChatResponse | None = None

    def add(self, chunk: ollama.ChatResponse) -> None:
        if chunk.message.thinking:
            self.thinking.append(chunk.message.thinking)
        content = chunk.message.content or ""
        if content:
            self.pieces.append(content)
            if self.on_token is not None:
                self.on_token(content)
        if chunk.done:
            self.final = chunk


class OllamaModel(Model):
    """A model served by Ollama; always streams, always sends `num_ctx` and a deadline."""

    def __init__(self, provider: str, name: str, endpoint: EndpointConfig) -> None:
        self.provider = provider
        self.name = name
        self.tier = endpoint.tier
        # The SDK reads OLLAMA_HOST when no host is given, and sets no timeout at all by default.
        # Reads get none here on purpose: a big prompt may take minutes before its first token and
        # a pull takes as long as the download; `request` bounds the whole call instead.
        self._client = ollama.AsyncClient(
            host=endpoint.base_url or None, timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S)
        )
        self._where = endpoint.base_url or os.environ.get("OLLAMA_HOST") or "127.0.0.1:11434"

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """Stream one chat; an answer to a prompt Ollama silently cut comes back marked so."""
        settings = request.settings
        num_ctx = self.context_asked(settings)
        stream = _Stream(on_token)
        started = time.monotonic()
        try:
            async with asyncio.timeout(settings.timeout):
                await self._consume(request, num_ctx, stream)
        except _STREAM_ERRORS as error:
            if stream.pieces:
                raise StreamInterruptedError(
                    f"{self.ref} broke off mid-answer ({type(error).__name__}: {error}); "
                    "its partial output was discarded"
                ) from error
            raise
        final = stream.final
        if final is None:
            raise StreamInterruptedError(
                f"{self.ref} ended its stream without a final line; its output was discarded"
            )
        prompt_tokens = final.prompt_eval_count or 0
        return ModelResponse(
            text="".join(stream.pieces),
            thinking="".join(stream.thinking),
            usage=Usage(input_tokens=prompt_tokens, output_tokens=final.eval_count or 0),
            model=final.model or self.name,
            latency_s=time.monotonic() - started,
            truncation=await self._truncation(request, prompt_tokens, num_ctx),
        )

    def context_asked(self, settings: ModelSettings) -> int:
        """The `num_ctx` every chat sends (ours when the agent names none)."""
        return settings.num_ctx or DEFAULT_NUM_CTX

    async def served_window(self) -> int | None:
        """The model's trained context length, per `/api/show`: Ollama cuts a larger `num_ctx`
        down to it (llm/server.go, "requested context size too large for model")."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                shown = await self._client.show(self.name)
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError, TimeoutError):
            return None  # the window is then the one asked and declared; the chat will tell
        info = shown.modelinfo or {}
        length = info.get(f"{info.get('general.architecture')}.context_length")
        return length if isinstance(length, int) and length > 0 else None

    async def _consume(self, request: ModelRequest, num_ctx: int, stream: _Stream) -> None:
        settings = request.settings
        # Unset temperature and stop are left out rather than sent empty: an empty `stop` list
        # would replace the stop sequences the model's Modelfile defines.
        options: dict[str, Any] = {"num_ctx": num_ctx, "num_predict": settings.max_tokens}
        if settings.temperature is not None:
            options["temperature"] = settings.temperature
        if settings.stop:
            options["stop"] = list(settings.stop)
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        chunks = await self._client.chat(
            self.name,
            messages,
            stream=True,
            format=request.output_schema,
            options=options,
            keep_alive=settings.keep_alive,
            think=settings.think,
        )
        async for chunk in chunks:
            stream.add(chunk)

    async def _truncation(
        self, request: ModelRequest, prompt_tokens: int, num_ctx: int
    ) -> Truncation | None:
        # Ollama drops whatever does not fit its window without any error (keeping the start and
        # about half the window: llm/llama_server.go), so a too-long prompt comes back as a
        # confident answer to half a question. The tell is a prompt count below the least we
        # can have sent. A low count alone is not enough: after a prompt-cache hit older Ollama
        # counts only the newly evaluated tokens. A cut prompt, though, fills at least half the
        # window it ran in, so only a count that does is a cut. The router checks that prompts
        # fit before sending, so what is caught here is a server running a smaller window than
        # asked and declared: ask it which window it runs, and only when the count is suspect.
        sent_at_least = least_tokens(request.text_size())
        if prompt_tokens >= sent_at_least or prompt_tokens < SMALLEST_WINDOW // 2:
            return None
        running = [num_ctx, await self._running_context(), await self.served_window()]
        window = min(size for size in running if size)
        if prompt_tokens < window // 2:
            return None
        return Truncation(read_tokens=prompt_tokens, sent_tokens=sent_at_least, window=window)

    async def _running_context(self) -> int | None:
        """The window the loaded model runs with, per `/api/ps`; None if it cannot be told."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                running = await self._client.ps()
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError, TimeoutError):
            return None  # The probe only sharpens the truncation check; the answer stands.
        for entry in running.models:
            if _same_model(entry.model or entry.name, self.name):
                return entry.context_length
        return None

    def classify(self, error: BaseException) -> Failure | None:
        """Routing meaning of what `request` raised; Ollama's own quirks first."""
        if isinstance(error, StreamInterruptedError):
            return Failure(FailureKind.RETRY, "cut_stream", str(error))
        if isinstance(error, ollama.ResponseError):
            return _classify_response(error)
        if isinstance(error, json.JSONDecodeError) or (
            isinstance(error, pydantic.ValidationError) and error.title in _SDK_RESPONSE_TYPES
        ):
            return Failure(FailureKind.RETRY, "malformed_response", f"{self.ref}: {error}")
        # Outside streams the SDK swaps httpx.ConnectError for a bare ConnectionError, which
        # would read as a retryable glitch; the refused connection underneath is what it means.
        if type(error) is ConnectionError and isinstance(error.__context__, httpx.ConnectError):
            return classify_transport(error.__context__)
        return classify_transport(error)

    async def check(self) -> str:
        """Whether the model is installed (`/api/tags`) and loaded (`/api/ps`)."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                installed = await self._client.list()
                running = await self._client.ps()
        except (ConnectionError, httpx.HTTPError, TimeoutError) as error:
            raise OrchestrateError(
                f"Ollama at {self._where} is not answering ({error}): start it with `ollama serve` "
                "or point OLLAMA_HOST / base_url at it"
            ) from error
        except ollama.ResponseError as error:
            raise OrchestrateError(
                f"Ollama at {self._where} refused to list models ({error}); check it is Ollama"
            ) from error
        if not any(_same_model(entry.model, self.name) for entry in installed.models):
            raise OrchestrateError(
                f"{self.ref} is not installed on Ollama at {self._where}: "
                f"run `ollama pull {self.name}`"
            )
        for entry in running.models:
            if _same_model(entry.model or entry.name, self.name):
                window = (
                    f" with a {entry.context_length}-token context" if entry.context_length else ""
                )
                return f"installed, loaded{window}"
        return "installed, not loaded (the first call loads it)"

    async def pull(self) -> None:
        """Download the model, like `ollama pull`; takes as long as the download does."""
        progress = await self._client.pull(self.name)
        if progress.status != "success":
            raise OrchestrateError(
                f"pulling {self.ref} ended with {progress.status!r}: run `ollama pull {self.name}`"
            )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()  # type: ignore[no-untyped-call]  # unannotated in the SDK


def _classify_response(error: ollama.ResponseError) -> Failure:
    # An `{"error": ...}` line inside a 200 stream arrives without a status: the runner failed
    # mid-answer (crashed, CUDA error), which is the server's fault, not the request's.
    status = error.status_code if error.status_code > 0 else 500
    text = str(error.error)
    if status == 500 and _OUT_OF_MEMORY.search(text):
        # Retrying cannot free memory; a smaller model next in the chain may fit.
        return Failure(FailureKind.MOVE_ON, "out_of_memory", text)
    return classify_status(status, text, _retry_after(error))


def _retry_after(error: ollama.ResponseError) -> str | None:
    """The response's `Retry-After` (RFC 9110 section 10.2.3,
    https://www.rfc-editor.org/rfc/rfc9110#field.retry-after), which a rate-limiting server or
    proxy in front of Ollama sends with a 429 or 503. The SDK raises `ResponseError` inside its
    `except httpx.HTTPStatusError` (`ollama/_client.py`, `from None`), so that error and its
    response are still the `__context__`."""
    context = error.__context__
    if isinstance(context, httpx.HTTPStatusError):
        value: str | None = context.response.headers.get("retry-after")
        return value
    return None


def build(provider: str, name: str, endpoint: EndpointConfig) -> Model:
    """The registry's entry point for `kind: ollama` endpoints."""
    return OllamaModel(provider, name, endpoint)
