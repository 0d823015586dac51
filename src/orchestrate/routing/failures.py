"""What a failed call means for routing. Each backend classifies its SDK's errors into a `Failure`."""

from __future__ import annotations

import enum
import importlib
import re
from dataclasses import dataclass
from types import ModuleType


class FailureKind(enum.StrEnum):
    """The four things the router can do about a failed attempt."""

    RETRY = "retry"
    """Transient: try the same model again after a backoff, then move on."""
    MOVE_ON = "move_on"
    """This model cannot serve now: go to the next in the chain at once."""
    CONTEXT_OVERFLOW = "context_overflow"
    """Prompt too long for this model: only a larger-context model may be tried."""
    STOP = "stop"
    """The request itself is wrong; it would fail everywhere."""


@dataclass(frozen=True)
class Failure:
    """A classified error."""

    kind: FailureKind
    error_class: str
    """Short stable label for the ledger: rate_limit, overloaded, server_error, timeout, ..."""
    message: str
    retry_after: float | None = None
    """Seconds the provider asked us to wait, if it said."""
    host: str = ""
    """The server of a pooled endpoint that failed (`models.pool`); empty for one server."""
    failover: bool = False
    """That server was left out and another of the pool takes the request: the retry is the
    pool's, not one of the agent's `retries`, and the model is not cooled down for it."""


# Providers say some things only in prose; each pattern here has a recorded-fixture test.
_CONTEXT_PATTERNS = re.compile(
    r"prompt is too long|context_length_exceeded|maximum context length|context window|"
    r"too many tokens|exceeds the context|exceeds the available context size|exceed_context_size|"
    # Ollama, for a model that cannot shift its context (llm/llama_server.go):
    r"longer than the context length",
    re.IGNORECASE,
)
_SPEND_CAP_PATTERNS = re.compile(
    r"insufficient_quota|exceeded your current quota|credit balance is too low|billing",
    re.IGNORECASE,
)
_NOT_FOUND_PATTERNS = re.compile(r"model .*not found|model_not_found|does not exist", re.IGNORECASE)
# A 400 that one model's limits caused, not the request's shape: another model may take it.
# Anthropic under 2026-10-21 answers "temperature: Extra inputs are not permitted"
# (https://platform.claude.com/docs/en/api/versioning) and refuses forced tool use with thinking
# ("Thinking may not be enabled when tool_choice forces tool use", models pages for Opus 5.5 /
# Sonnet 5.5); OpenAI sends code `unsupported_parameter` / `unsupported_value` ("Unsupported
# parameter: 'temperature' is not supported with this model."); Ollama answers
# '"qwen3-coder" does not support thinking'.
_UNSUPPORTED_PATTERNS = re.compile(
    r"extra inputs are not permitted|unsupported_parameter|unsupported_value|"
    r"unsupported parameter|not supported (?:with|by|for|on) this model|"
    r"does not support (?:thinking|tools|reasoning|temperature)|"
    r"tool_choice forces tool use|forced tool use",
    re.IGNORECASE,
)


def says_context_overflow(text: str) -> bool:
    """Whether an error body says the prompt did not fit."""
    return bool(_CONTEXT_PATTERNS.search(text))


def says_spend_cap(text: str) -> bool:
    """Whether a 429 is a spend cap (no point waiting) rather than a rate limit."""
    return bool(_SPEND_CAP_PATTERNS.search(text))


def says_model_not_found(text: str) -> bool:
    """Whether an error body says the model is unknown to the endpoint."""
    return bool(_NOT_FOUND_PATTERNS.search(text))


def says_unsupported(text: str) -> bool:
    """Whether a 400 says this model refuses a parameter or feature (a configuration problem)."""
    return bool(_UNSUPPORTED_PATTERNS.search(text))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `retry-after` header (numeric form only; HTTP dates are rare from model APIs)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)


_STATUS_CLASSES: dict[int, tuple[FailureKind, str]] = {
    408: (FailureKind.RETRY, "timeout"),
    409: (FailureKind.RETRY, "conflict"),
    429: (FailureKind.RETRY, "rate_limit"),
    500: (FailureKind.RETRY, "server_error"),
    502: (FailureKind.RETRY, "server_error"),
    503: (FailureKind.RETRY, "unavailable"),
    504: (FailureKind.RETRY, "server_error"),
    529: (FailureKind.RETRY, "overloaded"),
    401: (FailureKind.MOVE_ON, "auth"),
    403: (FailureKind.MOVE_ON, "auth"),
    404: (FailureKind.MOVE_ON, "not_found"),
    413: (FailureKind.STOP, "too_large"),
    422: (FailureKind.STOP, "invalid_request"),
}


def classify_status(status: int, message: str, retry_after: str | None = None) -> Failure:
    """The shared meaning of an HTTP error status plus its body text, for every HTTP backend."""
    if says_context_overflow(message):
        return Failure(FailureKind.CONTEXT_OVERFLOW, "context_overflow", message)
    # Anthropic reports an exhausted credit balance as a 400, OpenAI as a 429: neither will pass soon.
    if status in (400, 402, 429) and says_spend_cap(message):
        return Failure(FailureKind.MOVE_ON, "spend_cap", message)
    if status in (400, 404) and says_model_not_found(message):
        return Failure(FailureKind.MOVE_ON, "not_found", message)
    if status in (400, 422) and says_unsupported(message):
        # Not the request's fault: this model's limits. The next model may serve it; the user
        # has a configuration problem to fix, which the message says.
        note = f"configuration problem: this model refuses part of the request ({message}); "
        note += "remove the setting from the agent or the model from its chain"
        return Failure(FailureKind.MOVE_ON, "unsupported", note)
    kind, label = _STATUS_CLASSES.get(
        status,
        (FailureKind.RETRY, "server_error")
        if status >= 500
        else (FailureKind.STOP, "invalid_request"),
    )
    return Failure(kind, label, message, parse_retry_after(retry_after))


def _transport_modules() -> list[ModuleType]:
    """httpx (ollama) and httpx2 (anthropic and openai since their 2.x/3.x releases), whichever exist."""
    modules = []
    for name in ("httpx", "httpx2"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            continue
    return modules


def classify_transport(error: BaseException) -> Failure | None:
    """Transport failures under any SDK: refused/unresolvable endpoints move on, the rest are retried."""
    modules = _transport_modules()
    connect = (*tuple(m.ConnectError for m in modules), ConnectionRefusedError)
    timeout = (*tuple(m.TimeoutException for m in modules), TimeoutError)
    transport = (*tuple(m.TransportError for m in modules), ConnectionError)
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, connect):
            return Failure(FailureKind.MOVE_ON, "unreachable", f"endpoint unreachable: {seen}")
        if isinstance(seen, timeout):
            return Failure(FailureKind.RETRY, "timeout", f"timed out: {seen}")
        if isinstance(seen, transport):
            return Failure(FailureKind.RETRY, "connection", f"connection failed: {seen}")
        seen = seen.__cause__ or seen.__context__
    return None
