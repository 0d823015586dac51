"""The prompts the engine really sends, counted with a real tokenizer (bench/savings).

Scripted models answer from `bench/tasks/<name>/script.yaml`; what they report as input tokens is
not the script's figure but the request the engine built, counted by the packaged gemma3-270m's
own tokenizer through llama.cpp (vocabulary only, no weights). That is a PROXY for the cloud
vendors' tokenizers (not reachable offline): it counts the same text, not the same way. Output
tokens stay the script's: they are the size of the scripted answer.
"""

from __future__ import annotations

from orchestrate.config.loader import load_config
from orchestrate.models.base import Model, ModelRequest, ModelResponse, TokenCallback
from orchestrate.models.registry import infer_model
from orchestrate.models.scripted import ScriptedModel, Step

TOKENIZER = "llamacpp:gemma3-270m"
"""Whose tokenizer counts the prompts (a proxy for the cloud vendors' own)."""


def prompt_counter() -> Model:
    """The packaged GGUF as a model whose `count_tokens` is the real tokenizer's count."""
    return infer_model(TOKENIZER, load_config(None).endpoints)


class CountedModel(ScriptedModel):
    """A scripted model whose usage reports the prompt's real token count as its input."""

    def __init__(self, steps: list[Step], *, name: str, counter: Model) -> None:
        super().__init__(steps, name=name)
        self.counter = counter
        self.counted: list[int] = []
        """Input tokens of each call, in order."""

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        response = await super().request(request, on_token)
        tokens = await self.counter.count_tokens(request)
        self.counted.append(tokens)
        usage = response.usage.model_copy(update={"input_tokens": tokens})
        return response.model_copy(update={"usage": usage})
