"""The real `anthropic` SDK, through `AnthropicModel`, against `FakeAnthropic` on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import MissingCredentialsError, StreamInterruptedError
from orchestrate.models.anthropic import AnthropicModel, build
from orchestrate.models.base import Message, Model, ModelRequest, ModelSettings, Usage
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.testing.fake_anthropic import HEADER_CHUNKS, FakeAnthropic
from orchestrate.testing.fake_server import Reply, free_port

FIXTURES = Path(__file__).parent.parent / "fixtures" / "errors"
MODEL = "claude-sonnet-4-6"
KEY = "sk-ant-test-key"


def endpoint(base_url: str | None) -> EndpointConfig:
    return EndpointConfig(
        kind="anthropic", tier="cloud", base_url=base_url, api_key_env="ANTHROPIC_API_KEY"
    )


def ask(text: str = "Say hello", **kwargs: Any) -> ModelRequest:
    return ModelRequest(messages=(Message(role="user", content=text),), **kwargs)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropic]:
    # One server for the module: stopping one waits out its half-second poll interval.
    with FakeAnthropic() as running:
        yield running


@pytest.fixture
def fake(server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    server.reset()
    yield server
    server.assert_drained()


@pytest.fixture
async def model(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Model]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    built = build("anthropic", MODEL, endpoint(fake.url))
    yield built
    await built.aclose()


async def fail(model: Model, request: ModelRequest | None = None) -> tuple[BaseException, Failure]:
    """Run a request that must fail; return the error and how the backend classifies it."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 - each caller checks the type
        await model.request(request or ask())
    failure = model.classify(caught.value)
    assert failure is not None, f"unclassified {caught.value!r}"
    return caught.value, failure


async def test_text_answer_streams_tokens_and_normalises_usage(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(
        Reply(
            text="Hello there world",
            input_tokens=120,
            output_tokens=7,
            cache_read_tokens=900,
            cache_write_tokens=50,
            model="claude-sonnet-4-6-20260101",
        )
    )
    tokens: list[str] = []

    response = await model.request(ask(), on_token=tokens.append)

    assert response.text == "Hello there world"
    assert tokens == ["Hello ", "there ", "world"]
    assert response.usage == Usage(
        input_tokens=120, output_tokens=7, cache_read_tokens=900, cache_write_tokens=50
    )
    assert response.usage.prompt_tokens == 1070
    assert response.model == "claude-sonnet-4-6-20260101"
    assert response.latency_s > 0
    sent = fake.requests[0]
    # Older SDKs send the key as x-api-key, this one as a bearer token.
    sent_key = sent.headers.get("x-api-key") or sent.headers["authorization"].removeprefix(
        "Bearer "
    )
    assert sent_key == KEY
    body = sent.json()
    assert body["stream"] is True
    assert (body["model"], body["max_tokens"]) == (MODEL, 4096)


async def test_structured_output_goes_through_output_config_not_a_forced_tool(
    fake: FakeAnthropic, model: Model
) -> None:
    schema = {
        "type": "object",
        "properties": {"files": {"type": "array", "items": {"type": "string"}}},
        "required": ["files"],
    }
    fake.push(Reply(text=json.dumps({"files": ["a.py", "b/c.py"]})))
    streamed: list[str] = []

    response = await model.request(
        ask(output_schema=schema, schema_name="plan"), on_token=streamed.append
    )

    assert json.loads(response.text) == {"files": ["a.py", "b/c.py"]}
    assert json.loads("".join(streamed)) == {"files": ["a.py", "b/c.py"]}
    assert response.model == MODEL  # echoed when the server names no other
    body = fake.requests[0].json()
    assert "tools" not in body
    assert "tool_choice" not in body
    # The SDK's own transform_schema: objects closed, strings marked as free text.
    assert body["output_config"]["format"] == {
        "type": "json_schema",
        "schema": anthropic.transform_schema(schema),
    }
    assert body["output_config"]["format"]["schema"]["additionalProperties"] is False


async def test_claude_5_thinking_comes_before_the_answer_and_is_never_the_answer(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    sonnet = build("anthropic", "claude-sonnet-5-5", endpoint(fake.url))
    answer = json.dumps({"files": ["a.py"]})
    fake.push(Reply(text=answer, thinking="The task names a.py { not json", output_tokens=40))
    streamed: list[str] = []
    schema = {"type": "object", "properties": {"files": {"type": "array"}}}
    try:
        response = await sonnet.request(ask(output_schema=schema), on_token=streamed.append)
    finally:
        await sonnet.aclose()

    assert response.text == answer
    assert "".join(streamed) == answer
    assert response.thinking == "The task names a.py { not json"
    # Thinking is billed as output: Anthropic's output_tokens already count it.
    assert response.usage.output_tokens == 40


async def test_no_sampling_parameter_is_sent_under_the_sdks_api_version(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(Reply(text="ok"))

    await model.request(ask(settings=ModelSettings(temperature=0.2, effort="low")))

    sent = fake.requests[0]
    assert sent.headers["anthropic-version"] == "2026-10-21"
    body = sent.json()
    assert not {"temperature", "top_p", "top_k"} & body.keys()
    assert body["output_config"] == {"effort": "low"}


async def test_fake_refuses_sampling_under_2026_10_21_in_anthropics_error_shape(
    fake: FakeAnthropic,
) -> None:
    # The SDK no longer has a temperature argument; extra_body is how old code still sent it.
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.url, max_retries=0)
    try:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await client.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"temperature": 1.0},
            )
    finally:
        await client.close()
    assert caught.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "temperature: Extra inputs are not permitted",
        },
        "request_id": caught.value.body["request_id"],  # type: ignore[index]
    }
    failure = AnthropicModel.classify(object.__new__(AnthropicModel), caught.value)
    assert failure is not None
    assert failure.kind is FailureKind.MOVE_ON
    assert failure.error_class == "unsupported"
    assert failure.message.startswith("configuration problem")


async def test_fake_refuses_forced_tools_for_families_that_do_and_old_version_sampling(
    fake: FakeAnthropic,
) -> None:
    tool: anthropic.types.ToolParam = {"name": "plan", "input_schema": {"type": "object"}}
    hi: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hi"}]
    old = {"anthropic-version": "2023-06-01"}
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.url, max_retries=0)
    try:
        for model_name in ("claude-opus-5-5", "claude-sonnet-5-5"):
            with pytest.raises(anthropic.BadRequestError, match="forces tool use"):
                await client.messages.create(
                    model=model_name,
                    tools=[tool],
                    tool_choice={"type": "tool", "name": "plan"},
                    max_tokens=10,
                    messages=hi,
                )
        with pytest.raises(anthropic.BadRequestError, match="not supported on this model"):
            await client.messages.create(
                model="claude-sonnet-5",
                extra_headers=old,
                extra_body={"temperature": 0.2},
                max_tokens=10,
                messages=hi,
            )
        fake.push(Reply(text="ok"), Reply(text="ok"))
        await client.messages.create(
            model="claude-sonnet-5",
            extra_headers=old,
            extra_body={"temperature": 1.0},
            max_tokens=10,
            messages=hi,
        )
        await client.messages.create(
            model="claude-sonnet-4-6",
            extra_headers=old,
            extra_body={"temperature": 0.2},
            max_tokens=10,
            messages=hi,
        )
    finally:
        await client.close()


async def test_system_prompt_and_marked_message_carry_cache_control(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(Reply(text="ok"))
    request = ModelRequest(
        system="You are a careful planner.",
        messages=(
            Message(role="user", content="REPO CONTEXT", cache=True),
            Message(role="assistant", content="Understood."),
            Message(role="user", content="Plan the change."),
        ),
        settings=ModelSettings(temperature=0.3, stop=("END",), max_tokens=512),
    )

    await model.request(request)

    body = fake.requests[0].json()
    ephemeral = {"type": "ephemeral"}
    assert body["system"] == [
        {"type": "text", "text": "You are a careful planner.", "cache_control": ephemeral}
    ]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "REPO CONTEXT", "cache_control": ephemeral}],
        },
        {"role": "assistant", "content": "Understood."},
        {"role": "user", "content": "Plan the change."},
    ]
    assert "temperature" not in body  # removed under the SDK's API version, for every model
    assert (body["stop_sequences"], body["max_tokens"]) == (["END"], 512)


async def test_sdk_retries_are_off_so_a_500_is_one_request(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(Reply(status=500, error="Internal server error"))

    error, failure = await fail(model)

    assert isinstance(error, anthropic.InternalServerError)
    assert len(fake.requests) == 1
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "server_error")


FIXTURE_CASES = [
    ("anthropic_400_prompt_too_long.json", FailureKind.CONTEXT_OVERFLOW, "context_overflow"),
    ("anthropic_400_credit_balance.json", FailureKind.MOVE_ON, "spend_cap"),
    ("anthropic_400_invalid_request.json", FailureKind.STOP, "invalid_request"),
    # One model's limits, not a malformed request: the next model may serve it.
    ("anthropic_400_sampling_removed.json", FailureKind.MOVE_ON, "unsupported"),
    ("anthropic_401_authentication.json", FailureKind.MOVE_ON, "auth"),
    ("anthropic_404_not_found.json", FailureKind.MOVE_ON, "not_found"),
    ("anthropic_413_request_too_large.json", FailureKind.STOP, "too_large"),
    ("anthropic_429_rate_limit.json", FailureKind.RETRY, "rate_limit"),
    ("anthropic_500_api_error.json", FailureKind.RETRY, "server_error"),
    ("anthropic_529_overloaded.json", FailureKind.RETRY, "overloaded"),
]


@pytest.mark.parametrize(("fixture", "kind", "label"), FIXTURE_CASES)
async def test_recorded_error_bodies_are_classified(
    fake: FakeAnthropic, model: Model, fixture: str, kind: FailureKind, label: str
) -> None:
    recorded = json.loads((FIXTURES / fixture).read_text())
    status = int(fixture.split("_")[1])
    fake.push(
        Reply(
            status=status,
            error=recorded["error"]["message"],
            error_type=recorded["error"]["type"],
        )
    )

    error, failure = await fail(model)

    assert isinstance(error, anthropic.APIStatusError)
    assert error.status_code == status
    assert isinstance(error.body, dict)
    assert error.body["error"] == recorded["error"]
    assert (failure.kind, failure.error_class) == (kind, label)
    assert recorded["error"]["message"] in failure.message


async def test_every_fixture_file_is_exercised() -> None:
    on_disk = {path.name for path in FIXTURES.glob("anthropic_*.json")}
    assert on_disk == {case[0] for case in FIXTURE_CASES}


async def test_rate_limit_carries_retry_after(fake: FakeAnthropic, model: Model) -> None:
    fake.push(Reply(status=429, error="Rate limited", headers={"retry-after": "17"}))

    error, failure = await fail(model)

    assert isinstance(error, anthropic.RateLimitError)
    assert (failure.kind, failure.retry_after) == (FailureKind.RETRY, 17.0)


async def test_credit_balance_429_is_a_spend_cap(fake: FakeAnthropic, model: Model) -> None:
    fake.push(Reply(status=429, error="Your credit balance is too low to access the API."))

    _, failure = await fail(model)

    assert (failure.kind, failure.error_class) == (FailureKind.MOVE_ON, "spend_cap")


async def test_slow_answer_times_out_and_is_retried(fake: FakeAnthropic, model: Model) -> None:
    fake.push(Reply(text="too late", delay_s=0.5))

    error, failure = await fail(model, ask(settings=ModelSettings(timeout=0.1)))

    # Whichever fires first: the SDK's read timeout or our whole-call deadline.
    assert isinstance(error, anthropic.APITimeoutError | TimeoutError)
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "timeout")


async def test_refused_connection_moves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    model = build("anthropic", MODEL, endpoint(f"http://127.0.0.1:{free_port()}"))

    error, failure = await fail(model)
    await model.aclose()

    assert isinstance(error, anthropic.APIConnectionError)
    assert (failure.kind, failure.error_class) == (FailureKind.MOVE_ON, "unreachable")


async def test_stream_cut_after_first_token_is_never_partial_output(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(Reply(text="Hello there world", cut_after_chunks=HEADER_CHUNKS + 1))
    tokens: list[str] = []

    with pytest.raises(StreamInterruptedError) as caught:
        await model.request(ask(), on_token=tokens.append)

    assert tokens == ["Hello "]
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    failure = model.classify(caught.value)
    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "cut_stream")


async def test_stream_cut_before_any_token_is_a_plain_connection_retry(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(Reply(text="Hello there world", cut_after_chunks=HEADER_CHUNKS))

    error, failure = await fail(model)

    assert isinstance(error, httpx2.RemoteProtocolError)
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "connection")


async def test_error_event_inside_a_200_stream_is_classified_by_its_type(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(Reply(status=529, error="Overloaded", cut_after_chunks=HEADER_CHUNKS))

    error, failure = await fail(model)

    assert isinstance(error, anthropic.APIStatusError)
    assert error.status_code == 200
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "overloaded")


async def test_error_event_after_tokens_interrupts_the_stream(
    fake: FakeAnthropic, model: Model
) -> None:
    fake.push(
        Reply(
            text="Hello there", status=529, error="Overloaded", cut_after_chunks=HEADER_CHUNKS + 1
        )
    )

    error, failure = await fail(model)

    assert isinstance(error, StreamInterruptedError)
    assert isinstance(error.__cause__, anthropic.APIStatusError)
    assert failure.error_class == "cut_stream"


async def test_malformed_body_is_retried(fake: FakeAnthropic, model: Model) -> None:
    fake.push(Reply(malformed=True))

    error, failure = await fail(model)

    assert isinstance(error, json.JSONDecodeError)
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "malformed_response")


async def test_errors_from_elsewhere_are_not_classified(model: Model) -> None:
    assert model.classify(KeyError("plan")) is None


def test_missing_key_fails_at_build() -> None:
    with pytest.raises(MissingCredentialsError) as caught:
        build("anthropic", "claude-sonnet-4-6", endpoint(None))

    assert str(caught.value) == (
        "anthropic:claude-sonnet-4-6 needs an API key: set ANTHROPIC_API_KEY"
    )


async def test_sdk_reads_base_url_from_environment_when_endpoint_has_none(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    fake.push(Reply(text="via env"))
    model = build("anthropic", MODEL, endpoint(None))

    response = await model.request(ask())
    await model.aclose()

    assert isinstance(model, AnthropicModel)
    assert response.text == "via env"
    assert len(fake.requests) == 1


async def test_check_reports_the_model_or_raises_if_unknown(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, model: Model
) -> None:
    detail = await model.check()

    assert MODEL in detail
    assert "200000 token context" in detail
    assert fake.requests[0].path == f"/v1/models/{MODEL}"

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    unknown = build("anthropic", "claude-sonnet-9", endpoint(fake.url))
    with pytest.raises(anthropic.NotFoundError) as caught:
        await unknown.check()
    await unknown.aclose()
    failure = unknown.classify(caught.value)
    assert failure is not None
    assert failure.kind == FailureKind.MOVE_ON
