"""Cost math against the packaged price table."""

from __future__ import annotations

import pytest

from orchestrate.config.schema import OrchestrateConfig, PriceEntry
from orchestrate.exceptions import PriceUnknownError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.pricing import Pricer
from orchestrate.models.base import Usage

SONNET = "anthropic:claude-sonnet-4-5"
GPT4O = "openai:gpt-4o"


@pytest.fixture
def pricer() -> Pricer:
    return Pricer(packaged_prices().prices, SONNET)


def test_anthropic_usage_prices_cache_reads_and_writes_at_their_own_rates(pricer: Pricer) -> None:
    entry = packaged_prices().prices[SONNET]
    assert entry.cache_read is not None
    assert entry.cache_write is not None
    usage = Usage(
        input_tokens=1_000, output_tokens=500, cache_read_tokens=20_000, cache_write_tokens=3_000
    )
    expected = (
        1_000 * entry.input
        + 500 * entry.output
        + 20_000 * entry.cache_read
        + 3_000 * entry.cache_write
    ) / 1_000_000
    assert pricer.cost(SONNET, "cloud", usage) == pytest.approx(expected)
    # $3 in, $15 out, $0.30 read, $3.75 write: 0.003 + 0.0075 + 0.006 + 0.01125.
    assert pricer.cost(SONNET, "cloud", usage) == pytest.approx(0.02775)


def test_openai_cached_tokens_are_billed_at_the_cached_rate(pricer: Pricer) -> None:
    # OpenAI reports prompt_tokens=10000 with cached_tokens=8000; Usage holds them split.
    entry = packaged_prices().prices[GPT4O]
    assert entry.cache_read is not None
    assert entry.cache_write is None
    usage = Usage(input_tokens=2_000, cache_read_tokens=8_000, output_tokens=300)
    expected = (2_000 * entry.input + 8_000 * entry.cache_read + 300 * entry.output) / 1_000_000
    assert pricer.cost(GPT4O, "cloud", usage) == pytest.approx(expected)
    assert pricer.cost(GPT4O, "cloud", usage) == pytest.approx(0.018)


def test_missing_cache_rates_fall_back_to_the_input_price() -> None:
    prices = {"x:m": PriceEntry(input=2.0, output=4.0)}
    pricer = Pricer(prices, "x:m")
    usage = Usage(cache_read_tokens=1_000_000, cache_write_tokens=500_000)
    assert pricer.cost("x:m", "cloud", usage) == pytest.approx(3.0)


def test_unpriced_cloud_model_raises_instead_of_costing_zero(pricer: Pricer) -> None:
    with pytest.raises(PriceUnknownError, match=r"no price for 'openai:gpt-99'.*providers\.yaml"):
        pricer.cost("openai:gpt-99", "cloud", Usage(input_tokens=10))
    with pytest.raises(PriceUnknownError):
        pricer.worst_case("openai:gpt-99", "cloud", 10, 10)


def test_unpriced_reference_model_is_refused_up_front() -> None:
    with pytest.raises(PriceUnknownError, match="nobody:nothing"):
        Pricer(packaged_prices().prices, "nobody:nothing")


def test_local_calls_cost_nothing_by_default_even_unpriced(pricer: Pricer) -> None:
    usage = Usage(input_tokens=50_000, output_tokens=2_000)
    assert pricer.cost("ollama:qwen2.5-coder:7b", "local", usage) == 0.0


def test_local_rate_applies_to_every_token() -> None:
    pricer = Pricer(packaged_prices().prices, SONNET, local_cost_per_mtok=0.5)
    usage = Usage(input_tokens=1_500_000, output_tokens=400_000, cache_read_tokens=100_000)
    assert pricer.cost("ollama:qwen", "local", usage) == pytest.approx(2_000_000 * 0.5 / 1e6)


def test_counterfactual_prices_usage_at_the_reference_model(pricer: Pricer) -> None:
    entry = packaged_prices().prices[SONNET]
    usage = Usage(input_tokens=40_000, output_tokens=6_000)
    expected = (40_000 * entry.input + 6_000 * entry.output) / 1e6
    assert pricer.counterfactual(usage) == pytest.approx(expected)
    assert pricer.costs("ollama:qwen", "local", usage) == (0.0, pytest.approx(expected))


def test_cloud_counterfactual_is_the_actual_cost(pricer: Pricer) -> None:
    usage = Usage(input_tokens=40_000, output_tokens=6_000)
    actual, counterfactual = pricer.costs(GPT4O, "cloud", usage)
    assert actual == pytest.approx((40_000 * 2.5 + 6_000 * 10.0) / 1e6)
    assert counterfactual == actual


def test_worst_case_assumes_uncached_input_and_full_output(pricer: Pricer) -> None:
    entry = packaged_prices().prices[SONNET]
    assert pricer.worst_case(SONNET, "cloud", 10_000, 4_096) == pytest.approx(
        (10_000 * entry.input + 4_096 * entry.output) / 1e6
    )
    assert pricer.worst_case("ollama:qwen", "local", 10_000, 4_096) == 0.0


def test_context_window_comes_from_the_table(pricer: Pricer) -> None:
    assert pricer.context_window(GPT4O) == packaged_prices().prices[GPT4O].context_window
    assert pricer.context_window("ollama:qwen") is None


def test_from_config_uses_overrides_reference_and_local_rate() -> None:
    prices = {**packaged_prices().prices, "openai:custom": PriceEntry(input=1.0, output=2.0)}
    cfg = OrchestrateConfig(
        agents={},
        endpoints={},
        prices=prices,
        reference_model="openai:gpt-4o",
        local_cost_per_mtok=1.0,
    )
    pricer = Pricer.from_config(cfg)
    assert pricer.reference_model == "openai:gpt-4o"
    assert pricer.cost("openai:custom", "cloud", Usage(output_tokens=1_000_000)) == 2.0
    assert pricer.counterfactual(Usage(output_tokens=1_000_000)) == pytest.approx(10.0)
    assert pricer.cost("ollama:q", "local", Usage(input_tokens=1_000_000)) == pytest.approx(1.0)
