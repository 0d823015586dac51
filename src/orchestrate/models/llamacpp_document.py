"""A pretrained (base) GGUF run as plain text: the request is one document the model continues.

Such a model was never tuned on chat turns (the packaged gemma3-270m: `instruct: false` in the
model facts); wrapped in Gemma's turn markers it answered with blank lines. So its request is sent
as the text it says, system prompt first, with no turn markers, and its reply is what it writes
next. The text is tokenized with special tokens read as plain text: a file holding
`<start_of_turn>` stays characters, never becomes a control token.
"""

from __future__ import annotations

import json
from typing import Any

from llama_cpp import Llama
from llama_cpp.llama_grammar import LlamaGrammar

from orchestrate.models.base import ModelRequest


def document(request: ModelRequest) -> str:
    """The request as one text: the system prompt and every turn, in order, a blank line apart."""
    parts = [request.system, *(message.content for message in request.messages)]
    return "\n\n".join(part for part in parts if part)


def document_tokens(llama: Llama, request: ModelRequest) -> list[int]:
    """The document's tokens as the completion reads them (BOS first, no special tokens)."""
    return llama.tokenize(document(request).encode("utf-8"), add_bos=True, special=False)


def completion_options(chat_options: dict[str, Any]) -> dict[str, Any]:
    """Chat-completion sampling options as plain completion takes them: a JSON schema asked for
    becomes the grammar llama-cpp-python's chat handlers build from it (`from_json_schema`)."""
    options = dict(chat_options)
    response_format = options.pop("response_format", None)
    if response_format is not None:
        schema = json.dumps(response_format["schema"])
        options["grammar"] = LlamaGrammar.from_json_schema(schema, verbose=False)
    return options
