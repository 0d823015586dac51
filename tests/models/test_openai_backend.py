"""The OpenAI backend through the real `openai` SDK against FakeOpenAI on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from orchestrate.config.schema import BUILTIN_ENDPOINTS, EndpointConfig
from orchestrate.exceptions import ConfigError, MissingCredentialsError, StreamInterruptedError
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.openai import OpenAIModel, build
from orchestrate.models.openai_schema import strict_compatible
from orchestrate.models.registry import infer_model
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import RecordedRequest, Reply, Response, free_port

FIXTURES = Path(__file__).parent.parent / "fixtures" / "errors"
CLOSED_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "score": {"type": "integer"}},
    "required": ["answer", "score"],
    "additionalProperties": False,
}
SDK_ERRORS = (openai.OpenAIError, json.JSONDecodeError, TimeoutError, StreamInterruptedError)

Factory = Callable[..., OpenAIModel]


def recorded(name: str) -> dict[str, Any]:
    """The `error` object of a recorded OpenAI error body."""
    error: dict[str, Any] = json.loads((FIXTURES / f"openai_{name}.json").read_text())["error"]
    return error


def ask(text: str = "hi", **kwargs: Any) -> ModelRequest:
    return ModelRequest(system="be brief", messages=(Message(role="user", content=text),), **kwargs)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    # One server for the module: stopping one waits out serve_forever's 0.5 s poll.
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.requests.clear()
    server.served_models = None
    yield server
    server.assert_drained()


@pytest.fixture
async def make(fake: FakeOpenAI) -> AsyncIterator[Factory]:
    built: list[OpenAIModel] = []

    def factory(
        name: str = "qwen-coder", provider: str = "vllm", tier: str = "local", **endpoint: Any
    ) -> OpenAIModel:
        config = EndpointConfig(kind="openai", tier=tier, **{"base_url": fake.base_url, **endpoint})
        model = build(provider, name, config)
        assert isinstance(model, OpenAIModel)
        built.append(model)
        return model

    yield factory
    for model in built:
        await model.aclose()


async def fail(model: OpenAIModel, request: ModelRequest | None = None) -> Failure | None:
    """Send a request that must fail, and classify what it raised."""
    with pytest.raises(SDK_ERRORS) as raised:
        await model.request(request or ask())
    return model.classify(raised.value)


async def test_cloud_openai_goes_through_the_responses_api_with_usage_from_the_stream(
    fake: FakeOpenAI, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    model = make("gpt-6.2-sol", provider="openai", tier="cloud", api_key_env="OPENAI_API_KEY")
    fake.push(
        Reply(
            text="hello there world",
            thinking="weighing { the options",
            input_tokens=100,
            cache_read_tokens=40,
            cache_write_tokens=25,
            output_tokens=70,
            reasoning_tokens=63,
            model="gpt-6.2-sol",
        )
    )
    tokens: list[str] = []

    request = ask(settings=ModelSettings(max_tokens=321, effort="high"))
    response = await model.request(request, on_token=tokens.append)

    assert response.text == "hello there world"
    assert "".join(tokens) == "hello there world"
    assert response.thinking == "weighing { the options"
    # OpenAI's input_tokens (165) include cached reads and cache writes; ours exclude both.
    assert response.usage.input_tokens == 100
    assert response.usage.cache_read_tokens == 40
    assert response.usage.cache_write_tokens == 25
    assert response.usage.output_tokens == 70  # reasoning tokens included: billed as output
    assert response.model == "gpt-6.2-sol"
    sent = fake.requests[0]
    assert sent.path == "/v1/responses"
    body = sent.json()
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert body["stream"] is True
    assert body["instructions"] == "be brief"
    assert body["input"] == [{"role": "user", "content": "hi", "type": "message"}]
    assert body["max_output_tokens"] == 321
    assert body["reasoning"] == {"effort": "high"}
    assert not {"temperature", "max_tokens", "max_completion_tokens", "text"} & body.keys()
    fake.assert_drained()


async def test_responses_api_answers_plain_too(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    client = openai.AsyncOpenAI(base_url=fake.base_url, max_retries=0)
    fake.push(Reply(text="plain answer", input_tokens=9, cache_read_tokens=3, reasoning_tokens=2))
    try:
        response = await client.responses.create(model="gpt-6.2-sol", input="hi")
    finally:
        await client.close()
    assert response.output_text == "plain answer"
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 3
    assert response.usage.output_tokens_details.reasoning_tokens == 2


class Verdict(BaseModel):
    answer: str
    notes: list[str] = []
    score: int | None = None


async def test_typed_output_goes_strict_through_the_sdks_own_conversion(
    fake: FakeOpenAI, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    model = make("gpt-6.2-sol", provider="openai", tier="cloud", api_key_env="OPENAI_API_KEY")
    fake.push(Reply(text='{"answer": "yes", "notes": [], "score": null}'))
    request = ask(
        output_schema=Verdict.model_json_schema(), schema_name="Verdict", output_type=Verdict
    )

    await model.request(request)

    text = fake.requests[0].json()["text"]
    assert text["format"]["strict"] is True
    assert text["format"]["name"] == "Verdict"
    # Defaulted fields are required in strict mode; the plain pydantic schema leaves them out.
    assert set(text["format"]["schema"]["required"]) == {"answer", "notes", "score"}
    assert not strict_compatible(Verdict.model_json_schema())


async def test_reasoning_models_refuse_temperature_and_unknown_efforts_in_the_fake(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    client = openai.AsyncOpenAI(base_url=fake.base_url, max_retries=0)
    try:
        with pytest.raises(openai.BadRequestError) as sampled:
            await client.responses.create(model="gpt-6.2-sol", input="hi", temperature=0.2)
        with pytest.raises(openai.BadRequestError) as effort:
            await client.responses.create(
                model="gpt-6.1-sol", input="hi", reasoning={"effort": "minimal"}
            )
    finally:
        await client.close()
    assert sampled.value.code == "unsupported_parameter"
    assert effort.value.code == "unsupported_value"


async def test_local_server_reasoning_content_is_kept_apart_and_counted(
    fake: FakeOpenAI, make: Factory
) -> None:
    fake.push(Reply(text="the answer", thinking="hmm { let me think", output_tokens=30))
    tokens: list[str] = []

    response = await make().request(ask(), on_token=tokens.append)

    assert fake.requests[0].path == "/v1/chat/completions"
    assert response.text == "the answer"
    assert "".join(tokens) == "the answer"
    assert response.thinking == "hmm { let me think"
    assert response.usage.output_tokens == 30


async def test_on_token_gets_each_delta(fake: FakeOpenAI, make: Factory) -> None:
    fake.push(Reply(text="one two three"))
    tokens: list[str] = []

    response = await make().request(ask(), on_token=tokens.append)

    assert tokens == ["one ", "two ", "three"]
    assert "".join(tokens) == response.text


async def test_structured_output_sends_json_schema(fake: FakeOpenAI, make: Factory) -> None:
    fake.push(Reply(text='{"answer": "yes", "score": 3}'))

    response = await make().request(ask(output_schema=CLOSED_SCHEMA, schema_name="verdict"))

    assert json.loads(response.text) == {"answer": "yes", "score": 3}
    assert fake.requests[0].json()["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "verdict", "schema": CLOSED_SCHEMA, "strict": True},
    }


async def test_open_schema_is_sent_non_strict(fake: FakeOpenAI, make: Factory) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    fake.push(Reply(text='{"answer": "yes"}'))

    await make().request(ask(output_schema=schema))

    assert fake.requests[0].json()["response_format"]["json_schema"]["strict"] is False


@pytest.mark.parametrize(
    ("schema", "strict"),
    [
        (CLOSED_SCHEMA, True),
        ({**CLOSED_SCHEMA, "required": ["answer"]}, False),
        ({**CLOSED_SCHEMA, "additionalProperties": True}, False),
        ({**CLOSED_SCHEMA, "properties": {"a": {"type": "object"}}, "required": ["a"]}, False),
        ({"type": "array", "items": {"anyOf": [CLOSED_SCHEMA, {"type": "null"}]}}, True),
        ({"type": "array", "items": {"type": "object", "properties": {}}}, False),
        ({"$defs": {"x": {"type": "object", "properties": {}}}, "type": "string"}, False),
        ({"allOf": [CLOSED_SCHEMA]}, False),
    ],
)
def test_strict_mode_only_for_schemas_it_accepts(schema: dict[str, Any], strict: bool) -> None:
    assert strict_compatible(schema) is strict


async def test_local_endpoint_sends_max_tokens_and_needs_no_key(
    fake: FakeOpenAI, make: Factory
) -> None:
    fake.push(Reply(text="ok"))
    model = make("qwen-coder", provider="vllm", api_key_env="VLLM_API_KEY")

    response = await model.request(ask(settings=ModelSettings(max_tokens=64, stop=("END",))))

    assert model.ref == "vllm:qwen-coder"
    assert model.tier == "local"
    assert response.model == "qwen-coder"
    body = fake.requests[0].json()
    assert body["max_tokens"] == 64
    assert "max_completion_tokens" not in body
    assert body["stop"] == ["END"]
    assert fake.requests[0].headers["authorization"].startswith("Bearer ")


def test_cloud_endpoint_without_key_fails_at_build() -> None:
    with pytest.raises(MissingCredentialsError) as raised:
        infer_model("openai:gpt-4.1", BUILTIN_ENDPOINTS)
    assert str(raised.value) == "openai:gpt-4.1 needs an API key: set OPENAI_API_KEY"


async def test_openai_base_url_is_honoured_when_base_url_is_unset(
    fake: FakeOpenAI, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    fake.push(Reply(text="via env"))

    response = await make(base_url=None).request(ask())

    assert response.text == "via env"
    assert [r.path for r in fake.requests] == ["/v1/chat/completions"]


async def test_no_sdk_retries_a_500_is_sent_once(fake: FakeOpenAI, make: Factory) -> None:
    fake.push(Reply(status=500, error="The server had an error while processing your request."))

    failure = await fail(make())

    assert len(fake.requests) == 1
    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "server_error")


@pytest.mark.parametrize(
    ("reply", "kind", "error_class"),
    [
        (Reply(status=500), FailureKind.RETRY, "server_error"),
        (Reply(status=502, error="Bad gateway"), FailureKind.RETRY, "server_error"),
        (Reply(status=503, error="Service unavailable"), FailureKind.RETRY, "unavailable"),
        (
            Reply(status=400, error="Invalid value for 'temperature'"),
            FailureKind.STOP,
            "invalid_request",
        ),
    ],
)
async def test_status_errors_are_classified(
    fake: FakeOpenAI, make: Factory, reply: Reply, kind: FailureKind, error_class: str
) -> None:
    fake.push(reply)

    failure = await fail(make())

    assert failure is not None
    assert (failure.kind, failure.error_class) == (kind, error_class)


@pytest.mark.parametrize(
    ("fixture", "status", "expected"),
    [
        ("insufficient_quota", 429, (FailureKind.MOVE_ON, "spend_cap")),
        ("context_length_exceeded", 400, (FailureKind.CONTEXT_OVERFLOW, "context_overflow")),
        ("invalid_api_key", 401, (FailureKind.MOVE_ON, "auth")),
        ("unsupported_parameter", 400, (FailureKind.MOVE_ON, "unsupported")),
    ],
)
async def test_recorded_error_bodies_are_classified(
    fake: FakeOpenAI, make: Factory, fixture: str, status: int, expected: tuple[FailureKind, str]
) -> None:
    error = recorded(fixture)
    fake.push(Reply(status=status, error=error["message"], error_type=error["code"]))
    model = make()

    with pytest.raises(openai.APIStatusError) as raised:
        await model.request(ask())
    failure = model.classify(raised.value)

    # The fake renders the recorded shape: the SDK reads the same code and type from it.
    assert (raised.value.code, raised.value.type) == (error["code"], error["type"])
    assert failure is not None
    assert (failure.kind, failure.error_class) == expected


async def test_rate_limit_carries_retry_after(fake: FakeOpenAI, make: Factory) -> None:
    error = recorded("rate_limit_exceeded")
    fake.push(
        Reply(
            status=429,
            error=error["message"],
            error_type=error["code"],
            headers={"retry-after": "7"},
        )
    )

    failure = await fail(make())

    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "rate_limit")
    assert failure.retry_after == 7.0


async def test_unserved_model_is_not_found(fake: FakeOpenAI, make: Factory) -> None:
    fake.served_models = ["gpt-4.1"]
    model = make("gpt-9")

    with pytest.raises(openai.NotFoundError) as raised:
        await model.request(ask())
    failure = model.classify(raised.value)

    assert raised.value.body == recorded("model_not_found")
    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.MOVE_ON, "not_found")


async def test_slow_answer_times_out(fake: FakeOpenAI, make: Factory) -> None:
    fake.push(Reply(text="late", delay_s=1.0))

    failure = await fail(make(), ask(settings=ModelSettings(timeout=0.2)))

    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "timeout")
    assert "did not finish within 0.2 s" in failure.message


async def test_refused_connection_moves_on(make: Factory) -> None:
    model = make(base_url=f"http://127.0.0.1:{free_port()}/v1")

    failure = await fail(model)

    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.MOVE_ON, "unreachable")


async def test_stream_cut_after_first_token(fake: FakeOpenAI, make: Factory) -> None:
    fake.push(Reply(text="one two three", cut_after_chunks=1))
    tokens: list[str] = []
    model = make()

    with pytest.raises(StreamInterruptedError) as raised:
        await model.request(ask(), on_token=tokens.append)
    failure = model.classify(raised.value)

    assert tokens == ["one "]
    assert isinstance(raised.value.__cause__, openai.APIConnectionError)
    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "cut_stream")


async def test_malformed_stream_is_retried(fake: FakeOpenAI, make: Factory) -> None:
    fake.push(Reply(malformed=True))

    failure = await fail(make())

    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "malformed_response")


class _EmptyStream(FakeOpenAI):
    """A server that ends every stream at once, without a single chunk."""

    def handle(self, request: RecordedRequest) -> Response:
        return Response(headers={"content-type": "text/event-stream"}, chunks=[b"data: [DONE]\n\n"])


async def test_stream_without_chunks_is_malformed() -> None:
    with _EmptyStream() as server:
        config = EndpointConfig(kind="openai", tier="local", base_url=server.base_url)
        model = OpenAIModel("vllm", "qwen-coder", config)
        failure = await fail(model)
        await model.aclose()

    assert failure is not None
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "malformed_response")


async def test_error_event_inside_the_stream_is_classified_by_its_text(
    fake: FakeOpenAI, make: Factory
) -> None:
    fake.push(Reply(error="This model's maximum context length is 4096 tokens."))

    failure = await fail(make())

    assert failure is not None
    assert failure.kind == FailureKind.CONTEXT_OVERFLOW


def test_foreign_errors_are_not_judged(make: Factory) -> None:
    assert make().classify(KeyError("x")) is None


async def test_check_lists_served_models(fake: FakeOpenAI, make: Factory) -> None:
    fake.served_models = ["gpt-4.1", "gpt-4.1-mini"]

    detail = await make("gpt-4.1-mini").check()
    with pytest.raises(ConfigError, match="does not serve 'gpt-9'"):
        await make("gpt-9").check()

    assert "gpt-4.1-mini" in detail
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/v1/models")] * 2


async def test_fake_answers_plain_completions_the_sdk_parses(fake: FakeOpenAI) -> None:
    fake.push(Reply(text="plain answer", input_tokens=30, cache_read_tokens=20, output_tokens=4))
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0)

    completion = await client.chat.completions.create(
        model="any-model", messages=[{"role": "user", "content": "hi"}]
    )
    listed = [m.id async for m in client.models.list()]
    await client.close()

    assert completion.choices[0].message.content == "plain answer"
    assert completion.model == "any-model"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 50  # OpenAI counts cached tokens inside prompt_tokens
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 20
    assert "any-model" in listed  # with no served list, the fake lists what it was asked for
