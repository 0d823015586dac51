"""The packaged, versioned price table."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel

from orchestrate.config.schema import PriceEntry


class PriceTable(BaseModel):
    """`prices.yaml` as shipped."""

    version: str
    """Date the figures were taken from the providers' price pages."""
    prices: dict[str, PriceEntry]
    """USD per million tokens by `provider:model`."""


@cache
def packaged_prices() -> PriceTable:
    """The price table shipped with the package."""
    text = resources.files("orchestrate.ledger").joinpath("prices.yaml").read_text("utf-8")
    return PriceTable.model_validate(yaml.safe_load(text))
