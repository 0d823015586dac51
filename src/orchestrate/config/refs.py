"""Checks that need every layer merged: model references resolve to endpoints and prices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from orchestrate.config.agent_file import LoadedAgent
from orchestrate.config.deprecations import retirement
from orchestrate.config.errors import Loc, config_error, did_you_mean, display_path, field_label
from orchestrate.config.providers_file import PROVIDERS_FILE
from orchestrate.config.schema import EndpointConfig, PriceEntry
from orchestrate.config.yaml_lines import YamlDoc
from orchestrate.exceptions import ConfigError
from orchestrate.models.registry import split_ref


class RefChecker:
    """Validates `provider:model` references against the merged endpoints and prices."""

    def __init__(
        self,
        endpoints: Mapping[str, EndpointConfig],
        prices: Mapping[str, PriceEntry],
        today: dt.date | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.prices = prices
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.notes: list[str] = []
        """Models retiring within the warning window, one line each."""

    def check_agent(self, agent: LoadedAgent) -> None:
        """Every model in the chain resolves; a `local_only` agent has a local model to use."""
        config = agent.config
        self.check(agent.doc, ("model",), config.model)
        for index, ref in enumerate(config.fallbacks):
            self.check(agent.doc, ("fallbacks", index), ref)
        if config.privacy == "local_only" and not any(
            self.endpoints[split_ref(ref)[0]].tier == "local" for ref in config.chain
        ):
            message = (
                "local_only agent has no local model in its chain "
                "(add a local fallback such as 'llamacpp:gemma3-270m')"
            )
            raise config_error(agent.path, agent.doc.line_of(("privacy",)), "privacy", message)

    def check(self, doc: YamlDoc, loc: Loc, ref: str, need_price: bool = False) -> None:
        """`ref` names a known endpoint and, if cloud (or `need_price`), a priced model."""
        try:
            provider, _ = split_ref(ref)
        except ConfigError as error:
            raise self._error(doc, loc, _no_provider(ref, self.prices)) from error
        endpoint = self.endpoints.get(provider)
        if endpoint is None:
            raise self._error(doc, loc, _unknown_provider(provider, self.endpoints))
        self._check_retirement(doc, loc, ref, endpoint)
        if (need_price or endpoint.tier == "cloud") and ref not in self.prices:
            providers = display_path(doc.path.parent / PROVIDERS_FILE)
            message = f"no price for {ref!r}; add it under prices: in {providers}"
            raise self._error(doc, loc, message)

    def _check_retirement(self, doc: YamlDoc, loc: Loc, ref: str, endpoint: EndpointConfig) -> None:
        """Anthropic models: refused once retired, a warning in the weeks before (the SDK's table)."""
        if endpoint.kind != "anthropic":
            return
        due = retirement(split_ref(ref)[1], self.today)
        if due is None:
            return
        if due.verdict == "refuse":
            raise self._error(doc, loc, due.message(ref))
        note = f"{display_path(doc.path)}:{doc.line_of(loc)}: {due.message(ref)}"
        if note not in self.notes:
            self.notes.append(note)

    @staticmethod
    def _error(doc: YamlDoc, loc: Loc, message: str) -> ConfigError:
        return config_error(doc.path, doc.line_of(loc), field_label(loc), message)


def _no_provider(ref: str, prices: Mapping[str, PriceEntry]) -> str:
    known = [key for key in prices if key.partition(":")[2] == ref]
    example = known[0] if known else "ollama:qwen2.5-coder:7b"
    return f"model reference {ref!r} must read 'provider:model' (e.g. {example!r})"


def _unknown_provider(provider: str, endpoints: Mapping[str, EndpointConfig]) -> str:
    guess = did_you_mean(provider, endpoints)
    if guess is not None:
        return f"unknown provider {provider!r} (did you mean {guess!r}?)"
    known = ", ".join(sorted(endpoints))
    hint = f"known: {known}; declare others under endpoints: in {PROVIDERS_FILE}"
    return f"unknown provider {provider!r} ({hint})"
