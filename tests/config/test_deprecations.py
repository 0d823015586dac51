"""Retirements from the anthropic SDK's own table: warn within 60 days, refuse after, name a successor."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from anthropic._data import DEPRECATED_MODELS

from orchestrate.config.deprecations import (
    deprecated_models,
    retirement,
    retirement_date,
    successor,
)
from orchestrate.ledger.prices import packaged_prices


def test_dates_come_from_the_sdks_table() -> None:
    assert DEPRECATED_MODELS["claude-sonnet-4-5"] == "November 30th, 2026"
    assert retirement_date("claude-sonnet-4-5") == dt.date(2026, 11, 30)
    assert retirement_date("claude-sonnet-5-5") is None


def test_warn_within_sixty_days_refuse_from_the_day_with_the_successor_named() -> None:
    opus = "claude-opus-4-5"  # the SDK: January 22nd, 2027
    assert retirement(opus, dt.date(2026, 11, 22)) is None
    warned = retirement(opus, dt.date(2026, 12, 1))
    assert warned is not None
    assert warned.verdict == "warn"
    assert warned.message(f"anthropic:{opus}") == (
        "anthropic:claude-opus-4-5 retires on 2027-01-22; use anthropic:claude-opus-5-5 before then"
    )
    refused = retirement("claude-sonnet-4-5", dt.date(2026, 12, 1))
    assert refused is not None
    assert refused.verdict == "refuse"
    assert refused.successor == "claude-sonnet-5-5"
    assert retirement("claude-sonnet-4-5-20250929", dt.date(2026, 11, 30)) is not None


def test_successor_is_the_newest_current_model_of_the_same_line() -> None:
    assert successor("claude-mythos-preview") == "claude-mythos-5-2"
    assert successor("claude-opus-4-5-20251101") == "claude-opus-5-5"


def test_retired_models_keep_their_price_for_old_ledgers() -> None:
    prices = packaged_prices().prices
    assert "anthropic:claude-sonnet-4-5" in prices


def test_the_sdks_tables_are_read_without_importing_the_sdk() -> None:
    """`import anthropic` builds every SDK type (1-2 s): `config check` only needs two data files."""
    code = (
        "import sys, datetime as dt\n"
        "from orchestrate.config.deprecations import retirement\n"
        "found = retirement('claude-sonnet-4-5', dt.date(2026, 12, 1))\n"
        "assert found is not None and found.successor == 'claude-sonnet-5-5', found\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'anthropic'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_table_read_is_the_sdks_own() -> None:
    assert deprecated_models() == DEPRECATED_MODELS
