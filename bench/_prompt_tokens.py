"""The prompts the engine really sends and the scripted answers, counted with a real tokenizer.

Scripted models answer from `bench/tasks/<name>/script.yaml`; what they report is not the script's
figures but counts of the real text, by the packaged gemma3-270m's own tokenizer through
llama.cpp (vocabulary only, no weights). That is a PROXY for the cloud vendors' tokenizers (not
reachable offline): it counts the same text, not the same way.

- Input: the request the engine built (system prompt and turns, in the chat format) plus, for a
  structured answer, the JSON schema sent with it: our Anthropic backend sends it in every such
  request as `output_config.format`
  (https://platform.claude.com/docs/en/build-with-claude/structured-outputs), where the model
  reads it. How many tokens the vendor bills for it is not stated in what we could search, so
  the schema's own JSON is counted: the nearest measurable stand-in, and the cautious choice
  (the planner and reviewer, all hybrid's cloud calls, are the structured ones).
- Output: the answer's text. Hidden thinking is in no mode: a scripted answer has none, so every
  mode is short of what a thinking model bills (all-frontier most, since it makes most calls).
- A cloud role with a prompt cache (`_prompt_cache.py`) reports the part of its prompt read from
  or written to the cache, as the vendor would.
"""

from __future__ import annotations

import json

from _prompt_cache import PromptCache

from orchestrate.config.loader import load_config
from orchestrate.models.base import (
    Message,
    Model,
    ModelRequest,
    ModelResponse,
    TokenCallback,
    Usage,
)
from orchestrate.models.llamacpp import LlamaCppModel
from orchestrate.models.registry import infer_model
from orchestrate.models.scripted import ScriptedModel, Step

TOKENIZER = "llamacpp:gemma3-270m"
"""Whose tokenizer counts the prompts (a proxy for the cloud vendors' own)."""


class TokenCounter:
    """Counts prompts and plain text with one model's tokenizer."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._empty: int | None = None

    async def prompt(self, request: ModelRequest) -> int:
        """The request's tokens, chat format included; its schema's tokens added."""
        tokens = await self.model.count_tokens(request)
        if tokens is None:
            raise ValueError(f"{self.model.ref} cannot count tokens")
        schema = request.output_schema
        return tokens + (await self.text(json.dumps(schema)) if schema is not None else 0)

    async def text(self, text: str) -> int:
        """The tokens of `text` alone: one turn holding it, less the same turn empty."""
        if self._empty is None:
            self._empty = await self._turn("")
        return max(0, await self._turn(text) - self._empty)

    async def _turn(self, text: str) -> int:
        request = ModelRequest(messages=(Message(role="user", content=text),))
        tokens = await self.model.count_tokens(request)
        if tokens is None:
            raise ValueError(f"{self.model.ref} cannot count tokens")
        return tokens


def prompt_counter() -> TokenCounter:
    """The packaged GGUF's tokenizer (its `count_tokens` is the real tokenizer's count), counting
    requests in Gemma's chat format as a chat model reads them: the packaged model itself is
    sent plain text (a pretrained model), but the prompts counted here stand for cloud ones."""
    model = infer_model(TOKENIZER, load_config(None).endpoints)
    if isinstance(model, LlamaCppModel):
        model.instruct = True
    return TokenCounter(model)


class CountedModel(ScriptedModel):
    """A scripted model whose usage is the real token counts of its prompt and its answer."""

    def __init__(
        self,
        steps: list[Step],
        *,
        name: str,
        counter: TokenCounter,
        cache: PromptCache | None = None,
    ) -> None:
        super().__init__(steps, name=name)
        self.counter = counter
        self.cache = cache
        self.counted: list[int] = []
        """Prompt tokens of each call (cached or not), in order."""

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        response = await super().request(request, on_token)
        tokens = await self.counter.prompt(request)
        self.counted.append(tokens)
        output = await self.counter.text(response.text)
        usage = Usage(input_tokens=tokens, output_tokens=output)
        if self.cache is not None:
            usage = await self.cache.account(request, usage, self.counter.text)
        return response.model_copy(update={"usage": usage})
