"""The scripted test double: ordered steps, recording, failure injection and YAML selection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrate.config.schema import BUILTIN_ENDPOINTS, EndpointConfig
from orchestrate.exceptions import ConfigError, ContextOverflowError, StreamInterruptedError
from orchestrate.models.base import Message, ModelRequest, ModelResponse, Usage
from orchestrate.models.registry import infer_model
from orchestrate.models.scripted import (
    ScriptedFailure,
    ScriptedModel,
    ScriptExhaustedError,
    register_scripted,
    unregister_scripted,
)
from orchestrate.routing.failures import Failure, FailureKind


def _ask(text: str, system: str = "") -> ModelRequest:
    return ModelRequest(system=system, messages=(Message(role="user", content=text),))


async def test_steps_answer_in_order_and_requests_are_recorded() -> None:
    model = ScriptedModel(["first", "second"])
    one, two = _ask("a"), _ask("b")

    assert (await model.request(one)).text == "first"
    assert (await model.request(two)).text == "second"
    assert model.requests == [one, two]
    model.assert_done()


async def test_callable_step_sees_the_request() -> None:
    model = ScriptedModel([lambda req: req.messages[-1].content.upper()])

    response = await model.request(_ask("shout this"))

    assert response.text == "SHOUT THIS"


async def test_model_response_step_is_returned_unchanged() -> None:
    canned = ModelResponse(
        text="{}", usage=Usage(input_tokens=7, cache_read_tokens=3), model="x", latency_s=1.5
    )
    model = ScriptedModel([canned])

    assert await model.request(_ask("q")) is canned


async def test_exception_step_is_raised_and_the_call_still_recorded() -> None:
    boom = StreamInterruptedError("cut after 3 chunks")
    model = ScriptedModel([boom, "after"])

    with pytest.raises(StreamInterruptedError) as raised:
        await model.request(_ask("q"))

    assert raised.value is boom
    assert len(model.requests) == 1
    assert (await model.request(_ask("again"))).text == "after"


async def test_call_without_a_step_fails_as_a_test_error_not_a_model_failure() -> None:
    model = ScriptedModel(["only"])
    await model.request(_ask("1"))

    with pytest.raises(ScriptExhaustedError, match="call 2 has no scripted step") as raised:
        await model.request(_ask("2"))

    assert model.classify(raised.value) is None
    assert len(model.requests) == 2


async def test_assert_done_reports_unused_steps() -> None:
    model = ScriptedModel(["a", "b", "c"])
    await model.request(_ask("1"))

    assert model.remaining == 2
    with pytest.raises(AssertionError, match="2 scripted step"):
        model.assert_done()


async def test_streams_pieces_that_join_to_the_text() -> None:
    text = "def add(a, b):\n    return a + b\n"
    pieces: list[str] = []

    response = await ScriptedModel([text]).request(_ask("q"), on_token=pieces.append)

    assert len(pieces) > 1
    assert "".join(pieces) == response.text == text


async def test_usage_is_fixed_when_given_and_estimated_otherwise() -> None:
    fixed = await ScriptedModel(["x" * 40], input_tokens=11, output_tokens=3).request(_ask("q"))
    estimated = await ScriptedModel(["x" * 40]).request(_ask("y" * 20, system="z" * 20))

    assert (fixed.usage.input_tokens, fixed.usage.output_tokens) == (11, 3)
    assert (estimated.usage.input_tokens, estimated.usage.output_tokens) == (10, 10)


def test_classify_maps_injected_and_own_errors() -> None:
    limited = Failure(FailureKind.RETRY, "rate_limit", "slow down", retry_after=2.5)
    model = ScriptedModel([])

    assert model.classify(ScriptedFailure(limited)) is limited
    overflow = model.classify(ContextOverflowError("too long"))
    interrupted = model.classify(StreamInterruptedError("cut"))
    assert overflow is not None
    assert overflow.kind is FailureKind.CONTEXT_OVERFLOW
    assert interrupted is not None
    assert interrupted.kind is FailureKind.RETRY
    assert model.classify(KeyError("bug")) is None


async def test_scripted_failure_step_raises_with_its_failure() -> None:
    limited = Failure(FailureKind.RETRY, "rate_limit", "429", retry_after=1.0)
    model = ScriptedModel([ScriptedFailure(limited)])

    with pytest.raises(ScriptedFailure) as raised:
        await model.request(_ask("q"))

    assert model.classify(raised.value) == limited


@pytest.fixture
def registered() -> Iterator[ScriptedModel]:
    model = ScriptedModel(["from yaml"], name="worker", tier="cloud")
    register_scripted("worker", model)
    yield model
    unregister_scripted("worker")


async def test_yaml_reference_selects_the_registered_instance(registered: ScriptedModel) -> None:
    endpoints = {**BUILTIN_ENDPOINTS, "scloud": EndpointConfig(kind="scripted", tier="cloud")}
    model = infer_model("scloud:worker", endpoints)

    assert model is registered
    # The reference and its endpoint decide what the ledger and privacy checks see.
    assert (model.ref, model.tier) == ("scloud:worker", "cloud")
    assert (await model.request(_ask("q"))).text == "from yaml"
    assert registered.requests[0].messages[0].content == "q"


def test_unknown_scripted_name_lists_registered_ones(registered: ScriptedModel) -> None:
    with pytest.raises(ConfigError, match=r"'nobody'.*registered: worker"):
        infer_model("scripted:nobody", BUILTIN_ENDPOINTS)
