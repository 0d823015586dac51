"""The router's decisions, over ScriptedModels: retries, fallbacks, cooldowns, repair, privacy, budget."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from orchestrate.config.schema import ModelInfo
from orchestrate.events import AttemptFinished, CostUpdated, ModelSkipped, ModelSwapped
from orchestrate.exceptions import ModelRequestError, NoModelAvailableError, PrivacyBlockedError
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.scripted import ScriptedFailure, ScriptedModel
from orchestrate.routing.budget import Budget
from orchestrate.routing.failures import Failure, FailureKind

from .router_support import Sleeps, agent, make_config, make_router, scripted

REQUEST = ModelRequest(
    system="sys",
    messages=(Message(role="user", content="write hello()"),),
    settings=ModelSettings(max_tokens=100),
)


def fail(kind: FailureKind, label: str, retry_after: float | None = None) -> ScriptedFailure:
    return ScriptedFailure(Failure(kind, label, f"scripted {label}", retry_after))


class Answer(BaseModel):
    value: int


async def test_first_model_answers_and_is_recorded() -> None:
    a = ScriptedModel(["def hello(): ..."], input_tokens=120, output_tokens=30)
    with scripted(a=a):
        cfg = make_config(agent("scripted:a"))
        router, ledger, _, seen = make_router(cfg)
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    assert routed.response.text == "def hello(): ..."
    assert routed.model_ref == "scripted:a"
    [row] = ledger.attempts("run-1")
    assert (row.outcome, row.tier, row.input_tokens, row.output_tokens) == ("ok", "local", 120, 30)
    assert row.cost_usd == 0.0
    # The counterfactual prices the local tokens at the reference model ($3/$15 per Mtok).
    assert row.counterfactual_usd == pytest.approx((120 * 3.0 + 30 * 15.0) / 1e6)
    assert any(isinstance(e, CostUpdated) and e.local_tokens == 150 for e in seen)


async def test_transient_errors_retry_the_same_model_honouring_retry_after() -> None:
    a = ScriptedModel(
        [
            fail(FailureKind.RETRY, "rate_limit", retry_after=2.0),
            fail(FailureKind.RETRY, "overloaded"),
            "ok",
        ]
    )
    sleeps = Sleeps()
    with scripted(a=a):
        cfg = make_config(agent("scripted:a", retries=2))
        router, ledger, _, _ = make_router(cfg, sleeps=sleeps)
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    assert routed.response.text == "ok"
    assert [r.outcome for r in ledger.attempts()] == ["retry", "retry", "ok"]
    assert [r.attempt for r in ledger.attempts()] == [1, 2, 3]
    assert 2.0 <= sleeps.waits[0] <= 2.2  # retry-after plus a little jitter
    assert 0 < sleeps.waits[1] <= 8.0


async def test_retries_exhausted_move_on_with_a_visible_swap() -> None:
    a = ScriptedModel([fail(FailureKind.RETRY, "server_error")] * 3)
    b = ScriptedModel(["from b"])
    with scripted(a=a, b=b):
        cfg = make_config(agent("scripted:a", "scripted:b", retries=2))
        router, ledger, _, seen = make_router(cfg)
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    assert routed.model_ref == "scripted:b"
    assert [r.outcome for r in ledger.attempts()] == ["retry", "retry", "retry", "ok"]
    swaps = [e for e in seen if isinstance(e, ModelSwapped)]
    assert [(s.from_model, s.to_model, s.reason) for s in swaps] == [
        ("scripted:a", "scripted:b", "server_error")
    ]
    a.assert_done()


async def test_move_on_errors_skip_retries_and_cool_the_model_down() -> None:
    a = ScriptedModel([fail(FailureKind.MOVE_ON, "auth")])
    b = ScriptedModel(["first", "second"])
    with scripted(a=a, b=b):
        cfg = make_config(agent("scripted:a", "scripted:b"))
        router, ledger, _, seen = make_router(cfg)
        await router.complete(cfg.agents["coder"], REQUEST)
        # The second call does not try `a` again: it is cooling down, and says so.
        await router.complete(cfg.agents["coder"], REQUEST)
    assert len(a.requests) == 1
    assert [r.outcome for r in ledger.attempts()] == ["move_on", "ok", "skipped", "ok"]
    skip = next(e for e in seen if isinstance(e, ModelSkipped))
    assert skip.model == "scripted:a" and "cooling down" in skip.reason


async def test_failure_rate_cools_a_model_only_after_a_minimum_sample() -> None:
    a = ScriptedModel([fail(FailureKind.RETRY, "timeout"), "ok-1", "ok-2"])
    with scripted(a=a):
        cfg = make_config(agent("scripted:a", retries=1))
        router, _, _, _ = make_router(cfg)
        await router.complete(cfg.agents["coder"], REQUEST)
        # One failure in two attempts is below the minimum sample of three: not cooled.
        assert router.cooldowns.cooling("scripted:a") == 0
        await router.complete(cfg.agents["coder"], REQUEST)
    a.assert_done()


async def test_a_400_stops_the_chain() -> None:
    a = ScriptedModel([fail(FailureKind.STOP, "invalid_request")])
    b = ScriptedModel([])
    with scripted(a=a, b=b):
        cfg = make_config(agent("scripted:a", "scripted:b"))
        router, ledger, _, _ = make_router(cfg)
        with pytest.raises(ModelRequestError, match="rejected the request"):
            await router.complete(cfg.agents["coder"], REQUEST)
    assert b.requests == []
    assert [r.outcome for r in ledger.attempts()] == ["stop"]


async def test_context_overflow_goes_only_to_a_larger_window() -> None:
    small = ScriptedModel([fail(FailureKind.CONTEXT_OVERFLOW, "context_overflow")])
    same = ScriptedModel([])  # same 4096-token window as `small`: pointless to try
    wide = ScriptedModel(["fits"])
    with scripted(small=small, same=same, wide=wide):
        cfg = make_config(agent("scripted:small", "scripted:same", "sbig:wide"))
        router, ledger, _, seen = make_router(cfg)
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    assert routed.model_ref == "sbig:wide"
    assert same.requests == []
    assert [r.outcome for r in ledger.attempts()] == ["context_overflow", "skipped", "ok"]
    skip = next(e for e in seen if isinstance(e, ModelSkipped))
    assert "context window" in skip.reason


async def test_invalid_output_gets_one_repair_round_with_the_error() -> None:
    a = ScriptedModel(['{"value": "many"}', '{"value": 3}'])
    with scripted(a=a):
        cfg = make_config(agent("scripted:a"))
        router, ledger, _, _ = make_router(cfg)
        routed = await router.complete(cfg.agents["coder"], REQUEST, output_type=Answer)
    assert routed.output == Answer(value=3)
    assert a.requests[0].output_schema == Answer.model_json_schema()
    repair = a.requests[1].messages[-1].content
    assert "value" in repair and "did not match" in repair
    assert [r.outcome for r in ledger.attempts()] == ["invalid_output", "ok"]


async def test_output_still_invalid_after_repair_moves_on() -> None:
    a = ScriptedModel(["not json", "still not json"])
    b = ScriptedModel(['{"value": 1}'])
    with scripted(a=a, b=b):
        cfg = make_config(agent("scripted:a", "scripted:b"))
        router, _, _, seen = make_router(cfg)
        routed = await router.complete(cfg.agents["coder"], REQUEST, output_type=Answer)
    assert routed.model_ref == "scripted:b"
    assert any(isinstance(e, ModelSwapped) and e.reason == "invalid_output" for e in seen)


async def test_private_requests_never_reach_a_cloud_model() -> None:
    cloud = ScriptedModel([])
    local = ScriptedModel(["local answer"])
    with scripted(big=cloud, a=local):
        cfg = make_config(agent("scloud:big", "scripted:a"))
        router, ledger, _, _ = make_router(cfg)
        routed = await router.complete(cfg.agents["coder"], REQUEST, private=True)
    assert routed.model_ref == "scripted:a"
    assert cloud.requests == []
    rows = ledger.attempts()
    assert rows[0].outcome == "skipped" and "private" in (rows[0].detail or "")


async def test_private_request_without_a_local_model_fails_closed() -> None:
    cloud = ScriptedModel([])
    with scripted(big=cloud):
        cfg = make_config(agent("scloud:big"))
        router, _, _, _ = make_router(cfg)
        with pytest.raises(PrivacyBlockedError, match="no local model"):
            await router.complete(cfg.agents["coder"], REQUEST, private=True)
    assert cloud.requests == []


async def test_budget_blocks_a_cloud_call_before_it_is_sent_and_local_still_runs() -> None:
    cloud = ScriptedModel([])
    local = ScriptedModel(["local"])
    with scripted(big=cloud, a=local):
        cfg = make_config(agent("scloud:big", "scripted:a"))
        # max_tokens=100 at $15/Mtok alone is $0.0015: more than the cap.
        router, ledger, _, _ = make_router(cfg, budget=Budget(cap_usd=0.001))
        routed = await router.complete(cfg.agents["coder"], REQUEST)
    assert cloud.requests == []
    assert routed.model_ref == "scripted:a"
    assert ledger.attempts()[0].detail == "cloud budget left is less than this call's worst case"


async def test_cloud_cost_comes_from_usage_and_settles_the_budget() -> None:
    cloud = ScriptedModel(["answer"], input_tokens=1000, output_tokens=50)
    budget = Budget(cap_usd=1.0)
    with scripted(big=cloud):
        cfg = make_config(agent("scloud:big"))
        router, ledger, _, seen = make_router(cfg, budget=budget)
        await router.complete(cfg.agents["coder"], REQUEST)
    [row] = ledger.attempts()
    expected = (1000 * 3.0 + 50 * 15.0) / 1e6
    assert row.cost_usd == pytest.approx(expected)
    assert budget.spent_usd == pytest.approx(expected)
    assert budget.reserved_usd == pytest.approx(0.0)
    finished = next(e for e in seen if isinstance(e, AttemptFinished))
    assert finished.cost_usd == pytest.approx(expected)


async def test_a_cut_stream_is_not_rerun_when_the_step_is_not_repeatable() -> None:
    a = ScriptedModel([fail(FailureKind.RETRY, "cut_stream")])
    with scripted(a=a):
        cfg = make_config(agent("scripted:a"))
        router, _, _, _ = make_router(cfg)
        once = REQUEST.model_copy(update={"repeatable": False})
        with pytest.raises(ModelRequestError):
            await router.complete(cfg.agents["coder"], once)
    assert len(a.requests) == 1


async def test_exhausted_chain_names_every_reason() -> None:
    a = ScriptedModel([fail(FailureKind.MOVE_ON, "unreachable")])
    with scripted(a=a):
        cfg = make_config(agent("scripted:a", "openai:gpt-4.1"))
        router, ledger, _, _ = make_router(cfg)
        with pytest.raises(NoModelAvailableError) as caught:
            await router.complete(cfg.agents["coder"], REQUEST)
    message = str(caught.value)
    assert "scripted:a: unreachable" in message
    assert "OPENAI_API_KEY" in message  # the skipped cloud model says what is missing
    assert [r.outcome for r in ledger.attempts()] == ["move_on", "skipped"]


async def test_an_unclassified_error_is_a_bug_and_propagates() -> None:
    a = ScriptedModel([KeyError("bug")])
    b = ScriptedModel([])
    with scripted(a=a, b=b):
        cfg = make_config(agent("scripted:a", "scripted:b"))
        router, _, _, _ = make_router(cfg)
        with pytest.raises(KeyError):
            await router.complete(cfg.agents["coder"], REQUEST)
    assert b.requests == []


async def test_a_models_output_cap_bounds_what_any_agent_asks_of_it() -> None:
    a = ScriptedModel(["short"])
    with scripted(a=a):
        cfg = make_config(agent("scripted:a"))
        capped = cfg.endpoints["scripted"].model_copy(
            update={"models": {"a": ModelInfo(max_output_tokens=32)}}
        )
        cfg = cfg.model_copy(update={"endpoints": {**cfg.endpoints, "scripted": capped}})
        router, _, _, _ = make_router(cfg)
        await router.complete(cfg.agents["coder"], REQUEST)  # the request asks for 100
    assert a.requests[0].settings.max_tokens == 32
