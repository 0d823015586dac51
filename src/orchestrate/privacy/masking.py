"""Keeps our own API keys out of everything we write: logs, reports, events, the ledger, PRs,
check output, the run state, stderr, and every request to a model, local or cloud.

Masking is by value: whatever the variables named by endpoints' `api_key_env` (and the standard
provider variables) hold right now is replaced by `[NAME]`, wherever it appears in the text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from orchestrate.config.schema import EndpointConfig
from orchestrate.models.base import ModelRequest

STANDARD_KEY_ENVS: tuple[str, ...] = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
"""Variables masked even when no endpoint names them."""

MIN_KEY_LENGTH = 8
"""Shorter values are not real keys, and masking them would mangle ordinary text."""

_watched: set[str] = set(STANDARD_KEY_ENVS)


def watch_key_envs(endpoints: Iterable[EndpointConfig]) -> None:
    """Add the variables these endpoints read their keys from to those masked everywhere."""
    _watched.update(e.api_key_env for e in endpoints if e.api_key_env)


def watched_key_envs() -> frozenset[str]:
    """Names of the variables whose values are masked."""
    return frozenset(_watched)


def keys_in(text: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of the watched variables whose current values appear in `text`."""
    env = os.environ if environ is None else environ
    return sorted(
        name
        for name in _watched
        if len(value := env.get(name, "").strip()) >= MIN_KEY_LENGTH and value in text
    )


def mask_request(request: ModelRequest) -> ModelRequest:
    """`request` with our keys masked in its system prompt and every message: sent to any model,
    local ones too (a key in a repository's file or a check's output is still ours)."""
    system = mask_keys(request.system)
    messages = tuple(
        message.model_copy(update={"content": mask_keys(message.content)})
        for message in request.messages
    )
    if system == request.system and messages == request.messages:
        return request
    return request.model_copy(update={"system": system, "messages": messages})


def mask_keys(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every watched key's current value replaced by `[VARIABLE_NAME]`."""
    env = os.environ if environ is None else environ
    keys = tuple(
        sorted(
            (value, name)
            for name in _watched
            if len(value := env.get(name, "").strip()) >= MIN_KEY_LENGTH
        )
    )
    if not keys or not text:
        return text
    pattern, names = _pattern(keys)
    return pattern.sub(lambda match: f"[{names[match.group()]}]", text)


@lru_cache(maxsize=8)
def _pattern(keys: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    names = dict(keys)
    # Longest first, so a key that contains another is masked whole.
    values = sorted(names, key=len, reverse=True)
    return re.compile("|".join(re.escape(value) for value in values)), names
