"""Anthropic's prompt cache, played by the rules its documentation gives, for scripted cloud calls.

https://platform.claude.com/docs/en/build-with-claude/prompt-caching: the prompt is cached up to
each block marked `cache_control` (tools, then system, then messages, in that order); a later
request whose prefix up to a mark is byte-identical reads it back; a prefix shorter than the
model's minimum cacheable length is not cached at all (no error, both counters stay 0); the
default entry lives 5 minutes, refreshed each time it is read; written tokens are billed at
1.25x input and read ones at 0.1x (the packaged price table holds each model's rates:
`ledger/prices.yaml`). Changing the structured-output format invalidates the cache
(https://platform.claude.com/docs/en/build-with-claude/structured-outputs), so the format is
part of the key here.

What is marked is found in the very request body our Anthropic backend would send
(`AnthropicModel.batch_params`: the system prompt always, and the turns the engine flags), not
in our beliefs about it. Its tokens are counted with the benchmark's tokenizer (a proxy).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrate.config.schema import EndpointConfig
from orchestrate.models.anthropic import AnthropicModel
from orchestrate.models.base import ModelRequest, Usage

TTL_S = 300.0
"""The default (5-minute) cache lifetime, from an entry's last use."""
MINIMUM_TOKENS = {
    # Anthropic's page lists a minimum per model; none is published for the 5.5 models in what
    # we could reach, so each takes its family's newest documented figure: Sonnet 5 is 1,024 and
    # Haiku 4.5 4,096 (https://docs.litellm.ai/docs/completion/prompt_caching, quoting the
    # prompt-caching page; the 4.x figures also in github.com/anthropics/anthropic-sdk-python
    # issue 1194). Unconfirmed for 5.5: the benchmark prints the figure it used.
    "claude-sonnet-5-5": 1024,
    "claude-haiku-5-5": 4096,
}
"""Minimum cacheable prompt length, in tokens, per model."""

CountText = Callable[[str], Awaitable[int]]


@dataclass
class PromptCache:
    """One user's cache at the vendor for one model, across the calls of a session."""

    model: str
    """The vendor's model name (a key of MINIMUM_TOKENS)."""
    clock: Callable[[], float] = time.monotonic
    entries: dict[str, float] = field(default_factory=dict)
    """Prefix key → when it was last written or read."""
    written: int = 0
    read: int = 0
    marked_calls: int = 0
    """Calls with a marked prefix."""
    short_calls: int = 0
    """Calls whose every marked prefix was shorter than the minimum (nothing cached)."""
    longest: int = 0
    """The longest marked prefix seen, in tokens."""
    _backend: AnthropicModel | None = None

    @property
    def minimum(self) -> int:
        return MINIMUM_TOKENS[self.model]

    async def account(self, request: ModelRequest, usage: Usage, count: CountText) -> Usage:
        """`usage` (all prompt tokens as input) split into uncached, written and read tokens."""
        marks = [(key, await count(text)) for key, text in self._marks(request)]
        if marks:
            self.marked_calls += 1
            self.longest = max(self.longest, *(tokens for _, tokens in marks))
        now = self.clock()
        self.entries = {k: t for k, t in self.entries.items() if now - t <= TTL_S}
        cacheable = [(key, tokens) for key, tokens in marks if tokens >= self.minimum]
        if marks and not cacheable:
            self.short_calls += 1
        read = max((tokens for key, tokens in cacheable if key in self.entries), default=0)
        longest = max((tokens for _, tokens in cacheable), default=0)
        for key, _ in cacheable:
            self.entries[key] = now  # written now, or read now (which refreshes it)
        total = usage.input_tokens
        read = min(read, total)
        write = min(max(0, longest - read), total - read)
        self.written += write
        self.read += read
        return usage.model_copy(
            update={
                "input_tokens": total - read - write,
                "cache_read_tokens": read,
                "cache_write_tokens": write,
            }
        )

    def _marks(self, request: ModelRequest) -> list[tuple[str, str]]:
        """(key, text) of the prompt up to each `cache_control` block of the body we would send."""
        body = self._body(request)
        fixed = json.dumps([body["model"], body.get("output_config", {}).get("format")])
        seen: list[Any] = []
        texts: list[str] = []
        marks: list[tuple[str, str]] = []
        for role, block in _blocks(body):
            seen.append([role, block.get("text")])
            texts.append(str(block.get("text", "")))
            if "cache_control" in block:
                key = hashlib.sha256(json.dumps([fixed, seen]).encode()).hexdigest()
                marks.append((key, "\n".join(texts)))
        return marks

    def _body(self, request: ModelRequest) -> dict[str, Any]:
        if self._backend is None:
            endpoint = EndpointConfig(kind="anthropic", tier="cloud")
            # A client that never sends anything: only its request body is read.
            self._backend = AnthropicModel("anthropic", self.model, endpoint, "not-sent")
        return self._backend.batch_params(request)


def _blocks(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every content block of the body in the order the cache reads them: system, then turns."""
    out: list[tuple[str, dict[str, Any]]] = [("system", block) for block in body.get("system", [])]
    for message in body["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        out += [(message["role"], dict(block)) for block in blocks]
    return out
