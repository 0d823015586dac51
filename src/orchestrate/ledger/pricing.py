"""What a call cost, what it would have cost on the reference cloud model, and the worst case."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrate.config.schema import OrchestrateConfig, PriceEntry, ProvidersFile, Rates
from orchestrate.exceptions import PriceUnknownError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.models.base import Tier, Usage

_PER_MILLION = 1_000_000
DEFAULT_REFERENCE_MODEL: str = ProvidersFile.model_fields["reference_model"].default
"""The savings reference when no config says otherwise (the providers-file default)."""


class Pricer:
    """Turns normalised token counts into USD, refusing to guess a cloud price."""

    def __init__(
        self,
        prices: Mapping[str, PriceEntry],
        reference_model: str,
        local_cost_per_mtok: float = 0.0,
    ) -> None:
        self._prices = dict(prices)
        self.reference_model = reference_model
        self.local_cost_per_mtok = local_cost_per_mtok
        # Checked now: an unpriced reference would break the counterfactual of every local call.
        self.reference_price = self.price(reference_model)

    @classmethod
    def from_config(cls, cfg: OrchestrateConfig) -> Pricer:
        """Prices, reference model and local rate as resolved from the YAML."""
        return cls(cfg.prices, cfg.reference_model, cfg.local_cost_per_mtok)

    @classmethod
    def packaged(cls, reference_model: str = DEFAULT_REFERENCE_MODEL) -> Pricer:
        """The shipped price table alone, for when no config is at hand."""
        return cls(packaged_prices().prices, reference_model)

    def price(self, ref: str) -> PriceEntry:
        """The price entry of a cloud model; never a made-up zero."""
        entry = self._prices.get(ref)
        if entry is None:
            raise PriceUnknownError(
                f"no price for {ref!r}; add it under prices: in agents/providers.yaml"
            )
        return entry

    def cost(self, ref: str, tier: Tier, usage: Usage, *, batch: bool = False) -> float:
        """USD for one call: cloud at the model's own rates for the tier its own prompt fell in
        (and the Batch discount if sent as a batch), local at the optional local rate."""
        if tier == "local":
            tokens = usage.prompt_tokens + usage.output_tokens
            return tokens * self.local_cost_per_mtok / _PER_MILLION
        entry = self.price(ref)
        usd = _priced(entry.rates_for(usage.prompt_tokens), usage)
        return usd * (entry.batch or 1.0) if batch else usd

    def counterfactual(self, usage: Usage) -> float:
        """The same usage priced at the reference cloud model."""
        return _priced(self.reference_price.rates_for(usage.prompt_tokens), usage)

    def costs(self, ref: str, tier: Tier, usage: Usage) -> tuple[float, float]:
        """`(cost_usd, counterfactual_usd)` for a ledger row.

        In the all-cloud counterfactual a cloud call costs what it actually cost, and only
        local calls are revalued at the reference model.
        """
        actual = self.cost(ref, tier, usage)
        return actual, actual if tier == "cloud" else self.counterfactual(usage)

    def worst_case(
        self, ref: str, tier: Tier, input_tokens_estimate: int, max_tokens: int
    ) -> float:
        """Most a call can cost, for budget reservations: all input uncached, all output used."""
        if tier == "local":
            return 0.0
        rates = self.price(ref).rates_for(input_tokens_estimate)
        return (input_tokens_estimate * rates.input + max_tokens * rates.output) / _PER_MILLION

    def context_window(self, ref: str) -> int | None:
        """Tokens the model accepts, if the price table knows."""
        entry = self._prices.get(ref)
        return None if entry is None else entry.context_window


def _priced(entry: Rates, usage: Usage) -> float:
    cache_read = entry.input if entry.cache_read is None else entry.cache_read
    cache_write = entry.input if entry.cache_write is None else entry.cache_write
    micro_usd = (
        usage.input_tokens * entry.input
        + usage.output_tokens * entry.output
        + usage.cache_read_tokens * cache_read
        + usage.cache_write_tokens * cache_write
    )
    return micro_usd / _PER_MILLION
