"""The small interface every backend implements, and the data that crosses it."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.routing.failures import Failure

if TYPE_CHECKING:
    from orchestrate.batching.api import BatchApi

Tier = Literal["local", "cloud"]
Role = Literal["user", "assistant"]

TokenCallback = Callable[[str], None]
"""Receives streamed text as it arrives (for live log panes); must be cheap and never raise."""


class Message(BaseModel):
    """One chat turn. The system prompt is not a message: it lives on `ModelRequest.system`."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str
    cache: bool = False
    """Mark the end of a stable prefix (repo context) so providers that support it cache up to here."""


class ModelSettings(BaseModel):
    """Per-call parameters, taken from the agent's YAML."""

    model_config = ConfigDict(frozen=True)

    temperature: float | None = None
    """Sampling temperature; None leaves the provider's default."""
    max_tokens: int = 4096
    """Upper bound on output tokens; also what budgets reserve for the worst case."""
    timeout: float = 120.0
    """Seconds for the whole call; every backend enforces one (Ollama's client has none by default)."""
    num_ctx: int | None = None
    """Context window to request from local servers (Ollama `num_ctx`, llama.cpp `n_ctx`)."""
    stop: tuple[str, ...] = ()
    """Stop sequences."""
    keep_alive: str | None = None
    """Ollama `keep_alive` (how long the model stays loaded), e.g. "10m"."""
    effort: str | None = None
    """Reasoning effort (Anthropic `output_config.effort`, OpenAI `reasoning.effort`); None leaves
    the model's default. The router drops a value the model does not accept."""
    think: bool = False
    """Whether a local model that can think should (Ollama `think`); always sent explicitly."""


class ModelRequest(BaseModel):
    """What an agent asks a model: a system prompt, turns, and optionally a JSON schema to answer in."""

    model_config = ConfigDict(frozen=True)

    system: str = ""
    """Stable system prompt; cached by providers that support prompt caching."""
    messages: tuple[Message, ...]
    """The conversation so far; the last one is from the user."""
    output_schema: dict[str, Any] | None = None
    """JSON schema the answer must follow (structured output); None for free text."""
    schema_name: str = "answer"
    """Name of the schema (OpenAI json_schema name)."""
    output_type: type[BaseModel] | None = Field(default=None, exclude=True, repr=False)
    """The pydantic type `output_schema` was made from, when there is one: SDKs that convert
    types to their own schema dialect (OpenAI's strict mode) start from it. Not part of the
    request's identity (left out of dumps and replay keys)."""
    settings: ModelSettings = Field(default_factory=ModelSettings)
    """Sampling and limits."""
    file_paths: tuple[str, ...] = ()
    """Whole-file edit replies: the answer is one block per path, each a line naming one of these
    paths followed by one fenced block. A backend that can constrain decoding (llama.cpp's
    grammar) allows only these path lines and ends the reply when the last block closes, so a
    small model can neither write a prompt line as the path nor ramble on. Empty: free text."""
    repeatable: bool = True
    """Whether the whole call may be re-run after output already started streaming."""
    conversation: str = Field(default="", exclude=True)
    """Names the conversation a request continues (a subtask's fix rounds): a pooled endpoint
    sends its rounds to the host that served the earlier ones. Routing only: not part of what
    is sent, nor of the request's replay key."""

    def text_size(self) -> int:
        """Characters in the prompt, for token estimates before sending."""
        return len(self.system) + sum(len(m.content) for m in self.messages)


class Usage(BaseModel):
    """Token counts, normalised: `input_tokens` excludes cached tokens on every provider."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    """Uncached prompt tokens."""
    output_tokens: int = 0
    """Generated tokens, thinking included (every provider bills thinking as output)."""
    cache_read_tokens: int = 0
    """Prompt tokens served from the provider's cache (cheaper)."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's cache (Anthropic prices these above input)."""

    @property
    def prompt_tokens(self) -> int:
        """All prompt tokens, cached or not."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


class Truncation(BaseModel):
    """The server read only part of the prompt and answered anyway: Ollama drops the start of a
    prompt longer than the window it runs, without an error. The answer is to another question."""

    model_config = ConfigDict(frozen=True)

    read_tokens: int
    """Prompt tokens the server says it read."""
    sent_tokens: int
    """Prompt tokens sent, at the least (a low estimate, so the cut is certain)."""
    window: int
    """The context window the server ran the model with."""


class ModelResponse(BaseModel):
    """A backend's answer: the text (JSON text when a schema was asked for) and what it cost in tokens."""

    model_config = ConfigDict(frozen=True)

    text: str
    """The model's answer; for structured requests, the JSON document. Never the thinking."""
    thinking: str = ""
    """Thinking the model showed before answering, kept apart from the answer (for logs only)."""
    usage: Usage
    """Tokens from the provider's own usage fields."""
    model: str
    """The model that actually answered, as the provider reported it."""
    latency_s: float
    """Wall time of the call."""
    truncation: Truncation | None = None
    """Set when the server reported reading less of the prompt than was sent; the router then
    records the call (it was paid for in time and tokens), discards the answer and moves on."""
    host: str = ""
    """The server of a pooled endpoint that answered (`models.pool`); empty for one server."""
    batch: bool = False
    """Answered through the vendor's Batch API (`batching`), so priced at the batch rate."""


class Model(abc.ABC):
    """A model behind one wire protocol. Backends raise their SDK's own errors; `classify` explains them."""

    provider: str
    """Endpoint name from the providers file (e.g. `anthropic`, `vllm`)."""
    name: str
    """Model name as the provider knows it."""
    tier: Tier
    """Whether calls leave the machine (`cloud`) or not (`local`)."""
    holds_slot: bool = True
    """Whether a call takes one of the endpoint's concurrency slots while it runs (a batched
    call, waiting hours on the vendor's queue, does not)."""

    @property
    def ref(self) -> str:
        """`provider:model`, as written in the YAML."""
        return f"{self.provider}:{self.name}"

    @abc.abstractmethod
    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """Send one request; raise the SDK's error (or ours) on failure, never retry."""

    @abc.abstractmethod
    def classify(self, error: BaseException) -> Failure | None:
        """Say what an error raised by `request` means for routing; None if it is not ours to judge."""

    def context_asked(self, settings: ModelSettings) -> int | None:
        """The context size this backend asks its server for (Ollama `num_ctx`, llama.cpp
        `n_ctx`); None when the server alone decides (cloud APIs, OpenAI-compatible servers)."""
        del settings
        return None

    def expect_context(self, tokens: int) -> None:  # noqa: B027 - optional hook
        """The largest context any agent will ask of this model: a backend that loads the model
        itself (llama.cpp in-process) loads it once, that large."""

    async def served_window(self) -> int | None:
        """The largest context the server says it runs this model with (Ollama cuts a larger
        `num_ctx` down to the model's trained length); None when it cannot say."""
        return None

    async def count_tokens(self, request: ModelRequest) -> int | None:
        """The prompt's tokens in the model's own tokenizer, when one is at hand without a model
        call (llama.cpp's); None otherwise, and callers estimate."""
        del request
        return None

    def batch_api(self) -> BatchApi | None:
        """This model's requests through its vendor's Batch API, at the batch price; None when
        there is none (local servers)."""
        return None

    async def check(self) -> str:
        """Check that the endpoint answers and the model is there; return a short detail, raise if not."""
        return "no availability check for this backend"

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release clients and connections."""
