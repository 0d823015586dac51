"""`provider:model` → a `Model`, importing each backend only when a reference needs it."""

from __future__ import annotations

import importlib
from typing import Protocol, cast

from orchestrate.config.schema import BackendKind, EndpointConfig
from orchestrate.exceptions import ConfigError, MissingDependencyError
from orchestrate.models.base import Model

_BACKENDS: dict[BackendKind, tuple[str, str]] = {
    "anthropic": ("orchestrate.models.anthropic", "pip install anthropic"),
    "openai": ("orchestrate.models.openai", "pip install openai"),
    "ollama": ("orchestrate.models.ollama", "pip install ollama"),
    "llamacpp": ("orchestrate.models.llamacpp", "pip install 'orchestrate[local]'"),
    "scripted": ("orchestrate.models.scripted", "it ships with orchestrate; reinstall the package"),
}


class _Builder(Protocol):
    def __call__(self, provider: str, name: str, endpoint: EndpointConfig) -> Model: ...


def split_ref(ref: str) -> tuple[str, str]:
    """`ollama:qwen2.5-coder:14b` → (`ollama`, `qwen2.5-coder:14b`): the provider ends at the first colon."""
    provider, sep, name = ref.partition(":")
    if not sep or not provider or not name:
        raise ConfigError(
            f"model reference {ref!r} must read 'provider:model', e.g. 'ollama:qwen2.5-coder:7b'"
        )
    return provider, name


def infer_model(ref: str, endpoints: dict[str, EndpointConfig]) -> Model:
    """Build the model a reference names. Raises MissingCredentialsError if its key is not set."""
    provider, name = split_ref(ref)
    endpoint = endpoints.get(provider)
    if endpoint is None:
        raise ConfigError(
            f"unknown provider {provider!r} in {ref!r}; declare it in agents/providers.yaml"
        )
    module_name, hint = _BACKENDS[endpoint.kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise MissingDependencyError(
            f"{ref} needs the {endpoint.kind} backend, which is not installed ({error.name}): {hint}"
        ) from error
    build = cast(_Builder, module.build)
    if endpoint.hosts:
        from orchestrate.models.pooled import PooledModel

        return PooledModel(provider, name, endpoint, lambda one: build(provider, name, one))
    return build(provider, name, endpoint)
