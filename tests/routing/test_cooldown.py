"""Cooldowns driven by a model's recent failure rate: on at the rate, off below it or the sample."""

from __future__ import annotations

from orchestrate.events import ModelSkipped
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.scripted import ScriptedFailure, ScriptedModel
from orchestrate.routing.cooldown import CooldownConfig, Cooldowns
from orchestrate.routing.failures import Failure, FailureKind

from .router_support import agent, make_config, make_router, scripted

REQUEST = ModelRequest(
    messages=(Message(role="user", content="write hello()"),),
    settings=ModelSettings(max_tokens=100),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_failure_rate_at_the_threshold_over_the_minimum_sample_cools_the_model() -> None:
    clock = Clock()
    cooldowns = Cooldowns(CooldownConfig(min_sample=4, failure_rate=0.5, cooldown_s=30), clock)
    for ok in (True, False, True):
        cooldowns.record("m", ok=ok)
    assert cooldowns.cooling("m") == 0  # three outcomes: below the sample of four
    cooldowns.record("m", ok=False)  # 2 failures of 4 = 0.5
    assert cooldowns.cooling("m") == 30
    clock.now += 31
    assert cooldowns.cooling("m") == 0


def test_a_failure_rate_below_the_threshold_never_cools() -> None:
    cooldowns = Cooldowns(CooldownConfig(min_sample=3, failure_rate=0.5), Clock())
    for ok in (True, True, False, True, True, False, True):
        cooldowns.record("m", ok=ok)
    assert cooldowns.cooling("m") == 0


def test_only_outcomes_inside_the_window_count() -> None:
    clock = Clock()
    cooldowns = Cooldowns(CooldownConfig(window_s=60, min_sample=3, failure_rate=0.5), clock)
    cooldowns.record("m", ok=False)
    cooldowns.record("m", ok=False)
    clock.now += 61  # the two failures age out of the window
    cooldowns.record("m", ok=False)
    assert cooldowns.cooling("m") == 0
    cooldowns.record("m", ok=True)
    cooldowns.record("m", ok=False)  # 2 of 3 recent outcomes failed
    assert cooldowns.cooling("m") > 0


async def test_a_model_failing_half_its_calls_is_skipped_by_the_next_request() -> None:
    timeout = ScriptedFailure(Failure(FailureKind.RETRY, "timeout", "scripted timeout"))
    # Each failure is retried and each retry answers: no single call ever moves on, yet two of
    # the first three attempts failed, so the third attempt's failure cools the model.
    flaky = ScriptedModel([timeout, "ok-1", timeout, "ok-2"])
    steady = ScriptedModel(["from steady"])
    with scripted(flaky=flaky, steady=steady):
        cfg = make_config(agent("scripted:flaky", "scripted:steady", retries=1))
        router, ledger, _, seen = make_router(cfg)
        first = await router.complete(cfg.agents["coder"], REQUEST)
        second = await router.complete(cfg.agents["coder"], REQUEST)
        third = await router.complete(cfg.agents["coder"], REQUEST)
    assert (first.model_ref, second.model_ref) == ("scripted:flaky", "scripted:flaky")
    assert third.model_ref == "scripted:steady"
    flaky.assert_done()
    skip = next(e for e in seen if isinstance(e, ModelSkipped))
    assert skip.model == "scripted:flaky" and "cooling down" in skip.reason
    assert [r.outcome for r in ledger.attempts()][-2:] == ["skipped", "ok"]
