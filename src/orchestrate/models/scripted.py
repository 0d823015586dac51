"""A deterministic model for tests and demos: it answers from a script and records every request.

Agent YAML selects one with `scripted:<name>` once a test has called `register_scripted(name, model)`.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import deque
from collections.abc import Callable, Sequence

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import (
    ConfigError,
    ContextOverflowError,
    MissingCredentialsError,
    ModelRequestError,
    StreamInterruptedError,
)
from orchestrate.models.base import (
    Model,
    ModelRequest,
    ModelResponse,
    Tier,
    TokenCallback,
    Usage,
)
from orchestrate.routing.failures import Failure, FailureKind

Step = str | ModelResponse | BaseException | Callable[[ModelRequest], str | ModelResponse]
"""One scripted call: answer text, a full response, an error to raise, or a function of the request."""

_CHUNK = re.compile(r"\s*\S+\s*|\s+")


class ScriptExhaustedError(AssertionError):
    """The model was called more times than its script has steps.

    An AssertionError, not an OrchestrateError, on purpose: it is a broken test, not a model failure,
    so `classify` returns None for it and the router must let it propagate instead of falling back
    to the next model (which would hide the bug behind a plausible-looking fallback).
    """


class ScriptedFailure(Exception):
    """An injected model failure whose routing meaning is given outright, e.g. a rate limit."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class ScriptedModel(Model):
    """Answers each call with the next step of its script, in order; records what it was asked."""

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        name: str = "scripted",
        provider: str = "scripted",
        tier: Tier = "local",
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """`input_tokens`/`output_tokens` fix the reported usage; None estimates 4 characters a token.

        `delay` is seconds each call waits before answering (for timeout and concurrency tests).
        """
        self.name = name
        self.provider = provider
        self.tier = tier
        self.requests: list[ModelRequest] = []
        """Every request received, in order, including those whose step raised."""
        self._steps: deque[Step] = deque(steps)
        self._input_tokens = input_tokens
        self._output_tokens = output_tokens
        self._delay = delay

    @property
    def remaining(self) -> int:
        """Steps not used yet."""
        return len(self._steps)

    def assert_done(self) -> None:
        """Fail if the script has steps nobody asked for."""
        if self._steps:
            raise AssertionError(f"{self.ref}: {len(self._steps)} scripted step(s) never used")

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """Play the next step: raise it if it is an error, else stream and return its answer."""
        self.requests.append(request)
        if not self._steps:
            raise ScriptExhaustedError(
                f"{self.ref}: call {len(self.requests)} has no scripted step "
                f"(script had {len(self.requests) - 1})"
            )
        step = self._steps.popleft()
        if self._delay:
            await asyncio.sleep(self._delay)
        if isinstance(step, BaseException):
            raise step
        answer = step(request) if callable(step) else step
        response = answer if isinstance(answer, ModelResponse) else self._respond(request, answer)
        if on_token is not None:
            for piece in _CHUNK.findall(response.text):
                on_token(piece)
        return response

    def _respond(self, request: ModelRequest, text: str) -> ModelResponse:
        usage = Usage(
            input_tokens=_or_estimate(self._input_tokens, request.text_size()),
            output_tokens=_or_estimate(self._output_tokens, len(text)),
        )
        return ModelResponse(text=text, usage=usage, model=self.name, latency_s=self._delay)

    def classify(self, error: BaseException) -> Failure | None:
        """Injected failures say their own meaning; our own errors map as a real backend's would."""
        if isinstance(error, ScriptedFailure):
            return error.failure
        message = str(error)
        if isinstance(error, ContextOverflowError):
            return Failure(FailureKind.CONTEXT_OVERFLOW, "context_overflow", message)
        if isinstance(error, StreamInterruptedError):
            return Failure(FailureKind.RETRY, "cut_stream", message)
        if isinstance(error, ModelRequestError):
            return Failure(FailureKind.STOP, "invalid_request", message)
        if isinstance(error, MissingCredentialsError):
            return Failure(FailureKind.MOVE_ON, "auth", message)
        if isinstance(error, TimeoutError):
            return Failure(FailureKind.RETRY, "timeout", message or "timed out")
        return None


def _or_estimate(fixed: int | None, chars: int) -> int:
    return fixed if fixed is not None else max(1, math.ceil(chars / 4))


_REGISTERED: dict[str, ScriptedModel] = {}


def register_scripted(name: str, model: ScriptedModel) -> None:
    """Make `scripted:<name>` in agent YAML select this instance (process-wide; replaces any other)."""
    _REGISTERED[name] = model


def unregister_scripted(name: str) -> None:
    """Forget a registered model; unknown names are ignored so test teardown can always call it."""
    _REGISTERED.pop(name, None)


def build(provider: str, name: str, endpoint: EndpointConfig) -> Model:
    """The registered instance itself, so a test can read its `requests` after the run.

    It takes the reference's provider and name and the endpoint's tier, so ledger rows, cooldowns
    and privacy decisions see the same `provider:model` as the agent's chain does.
    """
    model = _REGISTERED.get(name)
    if model is None:
        known = ", ".join(sorted(_REGISTERED)) or "none"
        raise ConfigError(
            f"no scripted model named {name!r} for '{provider}:{name}'; "
            f"register one with register_scripted() first (registered: {known})"
        )
    model.provider, model.name, model.tier = provider, name, endpoint.tier
    return model
