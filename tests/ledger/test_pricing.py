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
    cost, counterfactual = pricer.costs("ollama:qwen", "local", usage)
    assert cost == 0.0 and counterfactual == pytest.approx(expected)


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


@pytest.mark.parametrize(
    ("ref", "rates"),
    [
        # Figures from the vendors' model pages (cited in prices.yaml): input, output.
        ("anthropic:claude-opus-5-5", (4.0, 20.0)),
        ("anthropic:claude-opus-5", (5.0, 25.0)),
        ("anthropic:claude-sonnet-5-5", (2.0, 10.0)),
        ("anthropic:claude-sonnet-5", (2.0, 10.0)),
        ("anthropic:claude-haiku-5-5", (0.10, 0.50)),
        ("openai:gpt-6.2-sol", (2.0, 10.0)),
        ("openai:gpt-6.1-sol", (2.0, 10.0)),
        ("openai:gpt-6-luna", (0.10, 0.50)),
    ],
)
def test_todays_models_are_priced_as_sold(ref: str, rates: tuple[float, float]) -> None:
    entry = packaged_prices().prices[ref]
    assert (entry.input, entry.output) == rates
    assert entry.batch == 0.5


def test_each_call_pays_the_tier_its_own_prompt_fell_in() -> None:
    pricer = Pricer(packaged_prices().prices, "anthropic:claude-sonnet-5-5")
    haiku = "anthropic:claude-haiku-5-5"
    short = Usage(input_tokens=60_000, cache_read_tokens=40_000, output_tokens=1_000)
    long = Usage(input_tokens=60_000, cache_read_tokens=40_001, output_tokens=1_000)
    # Up to 100K prompt tokens: $0.10 in, $0.01 read, $0.50 out; above: $0.50, $0.05, $2.50.
    assert pricer.cost(haiku, "cloud", short) == pytest.approx(
        (60_000 * 0.10 + 40_000 * 0.01 + 1_000 * 0.50) / 1e6
    )
    assert pricer.cost(haiku, "cloud", long) == pytest.approx(
        (60_000 * 0.50 + 40_001 * 0.05 + 1_000 * 2.50) / 1e6
    )
    sol = "openai:gpt-6.2-sol"
    big = Usage(
        input_tokens=250_000,
        cache_read_tokens=20_000,
        cache_write_tokens=5_000,
        output_tokens=2_000,
    )
    # Above 272K input tokens: input and cache rates double, output x1.5, for the whole call.
    assert pricer.cost(sol, "cloud", big) == pytest.approx(
        (250_000 * 4.0 + 20_000 * 0.2 + 5_000 * 5.0 + 2_000 * 15.0) / 1e6
    )
    small = big.model_copy(update={"input_tokens": 200_000})
    assert pricer.cost(sol, "cloud", small) == pytest.approx(
        (200_000 * 2.0 + 20_000 * 0.1 + 5_000 * 2.5 + 2_000 * 10.0) / 1e6
    )
    # OpenAI cache writes are priced as cache writes, not input.
    assert packaged_prices().prices[sol].cache_write == 2.5


def test_batch_discount_is_data() -> None:
    pricer = Pricer(packaged_prices().prices, "anthropic:claude-sonnet-5-5")
    usage = Usage(input_tokens=10_000, output_tokens=1_000)
    full = pricer.cost("anthropic:claude-sonnet-5-5", "cloud", usage)
    assert pricer.cost("anthropic:claude-sonnet-5-5", "cloud", usage, batch=True) == pytest.approx(
        full / 2
    )


def test_the_savings_reference_is_priced_at_its_tier_too() -> None:
    pricer = Pricer(packaged_prices().prices, "anthropic:claude-haiku-5-5")
    assert pricer.counterfactual(Usage(input_tokens=200_000)) == pytest.approx(0.1)


def test_retired_models_still_price_for_old_ledgers(pricer: Pricer) -> None:
    assert pricer.cost(SONNET, "cloud", Usage(input_tokens=1_000_000)) == pytest.approx(3.0)
