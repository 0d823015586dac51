"""The Ollama backend, through the real `ollama` SDK, against FakeOllama on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import OrchestrateError, StreamInterruptedError
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.ollama import DEFAULT_NUM_CTX, OllamaModel, build
from orchestrate.models.registry import infer_model
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_server import Reply, free_port

NAME = "qwen2.5-coder:7b"
ERRORS = Path(__file__).parent.parent / "fixtures" / "errors"


def ask(text: str = "write f", **settings: Any) -> ModelRequest:
    return ModelRequest(
        system="You write Python.",
        messages=(Message(role="user", content=text),),
        settings=ModelSettings(**settings),
    )


def endpoint(url: str | None) -> EndpointConfig:
    return EndpointConfig(kind="ollama", tier="local", base_url=url)


async def failure_of(model: OllamaModel, request: ModelRequest) -> tuple[BaseException, Failure]:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is what is under test
        await model.request(request)
    failure = model.classify(caught.value)
    assert failure is not None, f"unclassified: {caught.value!r}"
    return caught.value, failure


def chat_bodies(fake: FakeOllama) -> list[dict[str, Any]]:
    return [r.json() for r in fake.requests if r.path == "/api/chat"]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    # One server for the module: stopping one waits out its half-second poll interval.
    with FakeOllama() as running:
        yield running


@pytest.fixture
def fake(server: FakeOllama) -> FakeOllama:
    server.reset()
    return server


@pytest.fixture
async def model(fake: FakeOllama) -> AsyncIterator[OllamaModel]:
    backend = OllamaModel("ollama", NAME, endpoint(fake.url))
    yield backend
    await backend.aclose()


async def test_answer_carries_text_and_ollama_counts(fake: FakeOllama, model: OllamaModel) -> None:
    fake.push(Reply(text="def f():\n    return 1\n", input_tokens=42, output_tokens=7))
    response = await model.request(ask())
    assert response.text == "def f():\n    return 1\n"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (42, 7)
    assert response.model == NAME
    assert model.ref == f"ollama:{NAME}"
    assert model.tier == "local"
    fake.assert_drained()


async def test_tokens_stream_to_the_callback_as_they_arrive(
    fake: FakeOllama, model: OllamaModel
) -> None:
    fake.push(Reply(text="one two three", model="qwen2.5-coder:7b-q8"))
    tokens: list[str] = []
    response = await model.request(ask(), tokens.append)
    assert tokens == ["one", " two", " three"]
    assert response.text == "one two three"
    assert response.model == "qwen2.5-coder:7b-q8"


async def test_request_body_always_sets_num_ctx(fake: FakeOllama, model: OllamaModel) -> None:
    fake.push(Reply(text="a"), Reply(text='{"ok": true}'))
    await model.request(ask())
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    structured = ask(num_ctx=16384, keep_alive="10m", temperature=0.2, stop=("```",), max_tokens=99)
    await model.request(structured.model_copy(update={"output_schema": schema}))

    plain, rich = chat_bodies(fake)
    assert plain["options"] == {"num_ctx": DEFAULT_NUM_CTX, "num_predict": 4096}
    assert "format" not in plain
    assert "keep_alive" not in plain
    assert plain["stream"] is True
    assert plain["model"] == NAME
    assert plain["messages"] == [
        {"role": "system", "content": "You write Python."},
        {"role": "user", "content": "write f"},
    ]
    assert rich["options"] == {
        "num_ctx": 16384,
        "num_predict": 99,
        "temperature": 0.2,
        "stop": ["```"],
    }
    assert rich["keep_alive"] == "10m"
    assert rich["format"] == schema


async def test_whole_call_timeout_is_enforced(fake: FakeOllama, model: OllamaModel) -> None:
    fake.push(Reply(text="late", delay_s=0.6))
    started = time.monotonic()
    error, failure = await failure_of(model, ask(timeout=0.15))
    assert time.monotonic() - started < 0.5
    assert isinstance(error, TimeoutError)
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "timeout")


async def test_refused_connection_moves_on() -> None:
    backend = OllamaModel("ollama", NAME, endpoint(f"http://127.0.0.1:{free_port()}"))
    try:
        _, failure = await failure_of(backend, ask())
        assert (failure.kind, failure.error_class) == (FailureKind.MOVE_ON, "unreachable")
        with pytest.raises(OrchestrateError, match="ollama serve") as caught:
            await backend.check()
        # The SDK's listing calls hide the refusal behind a bare ConnectionError.
        assert type(caught.value.__cause__) is ConnectionError
        cause = backend.classify(caught.value.__cause__)
        assert cause is not None
        assert cause.error_class == "unreachable"
    finally:
        await backend.aclose()


@pytest.mark.parametrize(
    ("fixture", "kind", "error_class"),
    [
        ("ollama_404_model_not_found.json", FailureKind.MOVE_ON, "not_found"),
        ("ollama_503_queue_full.json", FailureKind.RETRY, "unavailable"),
        ("ollama_500_runner_terminated.json", FailureKind.RETRY, "server_error"),
        ("ollama_500_out_of_memory.json", FailureKind.MOVE_ON, "out_of_memory"),
        # A model's limits (no tools, no thinking) are a configuration problem: move on.
        ("ollama_400_unsupported.json", FailureKind.MOVE_ON, "unsupported"),
        ("ollama_400_no_thinking.json", FailureKind.MOVE_ON, "unsupported"),
    ],
)
async def test_recorded_errors_are_classified(
    fake: FakeOllama, model: OllamaModel, fixture: str, kind: FailureKind, error_class: str
) -> None:
    body = json.loads((ERRORS / fixture).read_text())
    status = int(fixture.split("_")[1])
    fake.push(Reply(status=status, error=body["error"]))
    _, failure = await failure_of(model, ask())
    assert (failure.kind, failure.error_class) == (kind, error_class)
    assert body["error"] in failure.message


async def test_model_missing_from_installed_list_gets_ollamas_404(
    fake: FakeOllama, model: OllamaModel
) -> None:
    fake.installed = ["llama3.2"]
    fake.push(Reply(text="never sent"))
    _, failure = await failure_of(model, ask())
    assert (failure.kind, failure.error_class) == (FailureKind.MOVE_ON, "not_found")
    assert f'model "{NAME}" not found, try pulling it first' in failure.message
    assert len(fake.script) == 1  # Ollama refuses before the model is ever run


async def test_a_silently_cut_prompt_comes_back_marked_with_its_counts(
    fake: FakeOllama, model: OllamaModel
) -> None:
    # Asked for 8192 but Ollama clamped the model to 2048 and read only what fitted.
    fake.loaded, fake.context_length = [NAME], 2048
    fake.push(Reply(text="confident nonsense", input_tokens=9, prompt_tokens_reported=2040))
    response = await model.request(ask("x" * 15_000, num_ctx=8192, max_tokens=512))
    assert response.truncation is not None
    assert (response.truncation.read_tokens, response.truncation.window) == (2040, 2048)
    assert response.truncation.sent_tokens == 15_017 // 4.5  # system prompt and turn, at 4.5
    assert response.usage.input_tokens == 2040  # the tokens were spent all the same


@pytest.mark.parametrize("read", [32768, 16_500])
async def test_a_cut_code_prompt_is_caught_though_code_has_few_characters_a_token(
    fake: FakeOllama, model: OllamaModel, read: int
) -> None:
    # ~52K tokens of Python (3.3 characters a token) asked with num_ctx 131072 of a model Ollama
    # runs at 32768: older runners kept the window's worth, newer ones the start and half of it.
    # At 6 characters a token (the old guess) 32,768 tokens read looked like all of it.
    fake.loaded, fake.context_length = [NAME], 32768
    fake.push(Reply(text="an answer to half a question", prompt_tokens_reported=read))
    response = await model.request(ask("def f(x):\n    return x\n" * 7_150, num_ctx=131_072))
    assert response.truncation is not None and response.truncation.window == 32768


@pytest.mark.parametrize(("reported", "running_window"), [(300, 2048), (1500, 8192)])
async def test_prompt_cache_counts_are_not_taken_for_truncation(
    fake: FakeOllama, model: OllamaModel, reported: int, running_window: int
) -> None:
    fake.loaded, fake.context_length = [NAME], running_window
    fake.push(Reply(text="ok", prompt_tokens_reported=reported))
    response = await model.request(ask("x" * 15_000, num_ctx=8192, max_tokens=512))
    assert response.usage.input_tokens == reported
    probed = any(r.path == "/api/ps" for r in fake.requests)
    assert probed is (reported >= 1024)  # too few tokens to fill any window: no need to ask


async def test_the_window_asked_and_the_one_the_server_runs(
    fake: FakeOllama, model: OllamaModel
) -> None:
    assert model.context_asked(ModelSettings(num_ctx=131_072)) == 131_072
    assert model.context_asked(ModelSettings()) == DEFAULT_NUM_CTX
    assert await model.served_window() is None  # /api/show names no context length
    fake.trained_length = 32768
    assert await model.served_window() == 32768
    assert [r.path for r in fake.requests] == ["/api/show", "/api/show"]


async def test_a_server_that_cannot_shift_its_context_says_so_and_it_is_an_overflow(
    fake: FakeOllama, model: OllamaModel
) -> None:
    # Models that cannot shift (deepseek2) get a 400 instead of a silent cut (llm/llama_server.go).
    body = json.loads((ERRORS / "ollama_400_prompt_too_long.json").read_text())
    fake.push(Reply(status=400, error=body["error"]))
    _, failure = await failure_of(model, ask())
    assert (failure.kind, failure.error_class) == (FailureKind.CONTEXT_OVERFLOW, "context_overflow")


async def test_stream_cut_after_first_token_is_interrupted(
    fake: FakeOllama, model: OllamaModel
) -> None:
    fake.push(Reply(text="one two three", cut_after_chunks=1))
    tokens: list[str] = []
    with pytest.raises(StreamInterruptedError) as caught:
        await model.request(ask(), tokens.append)
    assert tokens == ["one"]
    assert caught.value.__cause__ is not None
    failure = model.classify(caught.value)
    assert failure is not None
    assert (failure.kind, failure.error_class) == (
        FailureKind.RETRY,
        "cut_stream",
    )


async def test_stream_cut_before_any_token_is_a_plain_retry(
    fake: FakeOllama, model: OllamaModel
) -> None:
    fake.push(Reply(text="one two", cut_after_chunks=0))
    error, failure = await failure_of(model, ask())
    assert not isinstance(error, StreamInterruptedError)
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "connection")


async def test_runner_error_line_inside_the_stream(fake: FakeOllama, model: OllamaModel) -> None:
    fake.push(
        Reply(text="", error="llama runner process has terminated"),
        Reply(text="half an", error="llama runner process has terminated"),
    )
    _, before = await failure_of(model, ask())
    assert (before.kind, before.error_class) == (FailureKind.RETRY, "server_error")
    after, failure = await failure_of(model, ask())
    assert isinstance(after, StreamInterruptedError)
    assert failure.error_class == "cut_stream"


async def test_malformed_body_is_retried(fake: FakeOllama, model: OllamaModel) -> None:
    fake.push(Reply(malformed=True))
    _, failure = await failure_of(model, ask())
    assert (failure.kind, failure.error_class) == (FailureKind.RETRY, "malformed_response")


async def test_check_reports_installed_and_loaded(fake: FakeOllama) -> None:
    fake.installed = [NAME, "llama3.2"]
    latest = OllamaModel("ollama", "llama3.2:latest", endpoint(fake.url))
    backend = OllamaModel("ollama", NAME, endpoint(fake.url))
    try:
        assert await latest.check() == "installed, not loaded (the first call loads it)"
        fake.loaded, fake.context_length = [NAME], 8192
        assert await backend.check() == "installed, loaded with a 8192-token context"
    finally:
        await latest.aclose()
        await backend.aclose()


async def test_check_names_the_pull_for_a_missing_model(
    fake: FakeOllama, model: OllamaModel
) -> None:
    fake.installed = ["llama3.2"]
    with pytest.raises(OrchestrateError, match=f"ollama pull {NAME}"):
        await model.check()
    await model.pull()
    assert await model.check() == "installed, not loaded (the first call loads it)"


async def test_ollama_host_is_honoured_without_base_url(
    fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", fake.url)
    backend = infer_model(f"ollama:{NAME}", {"ollama": endpoint(None)})
    try:
        assert isinstance(backend, OllamaModel)
        assert backend.name == NAME
        fake.push(Reply(text="hi"))
        assert (await backend.request(ask())).text == "hi"
        assert len(chat_bodies(fake)) == 1
    finally:
        await backend.aclose()


async def test_build_makes_an_ollama_model() -> None:
    built = build("box", NAME, endpoint("http://127.0.0.1:1"))
    assert isinstance(built, OllamaModel)
    assert built.ref == f"box:{NAME}"
    await built.aclose()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_429_carries_its_retry_after(
    fake: FakeOllama, model: OllamaModel, stream: bool
) -> None:
    fake.push(Reply(status=429, error="too many requests", headers={"retry-after": "7"}))
    streamed: list[str] = []

    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is what is under test
        await model.request(ask(), streamed.append if stream else None)
    failure = model.classify(caught.value)

    assert failure is not None
    assert (failure.kind, failure.error_class, failure.retry_after) == (
        FailureKind.RETRY,
        "rate_limit",
        7.0,
    )


async def test_think_is_sent_explicitly_and_thinking_is_kept_apart_and_counted(
    fake: FakeOllama,
) -> None:
    thinker = OllamaModel("ollama", "gemma4:e4b", endpoint(fake.url))
    fake.push(
        Reply(text="FILE a.py\nx = 1\n", thinking="Let me FILE b.py think", output_tokens=60),
        Reply(text="FILE a.py\nx = 1\n", thinking="Let me FILE b.py think", output_tokens=9),
    )
    try:
        off = await thinker.request(ask())
        on = await thinker.request(ask(think=True))
    finally:
        await thinker.aclose()

    first, second = chat_bodies(fake)
    assert first["think"] is False  # workers' default, sent, not left to the model
    assert second["think"] is True
    assert off.thinking == ""
    assert on.text == "FILE a.py\nx = 1\n"  # the thinking is never part of the answer
    assert on.thinking == "Let me FILE b.py think"
    assert on.usage.output_tokens == 9  # Ollama's eval_count, thinking included


async def test_thinking_asked_of_a_model_that_cannot_is_a_configuration_problem(
    fake: FakeOllama,
) -> None:
    coder = OllamaModel("ollama", "qwen3-coder:30b", endpoint(fake.url))
    try:
        _, failure = await failure_of(coder, ask(think=True))
    finally:
        await coder.aclose()
    assert (failure.kind, failure.error_class) == (FailureKind.MOVE_ON, "unsupported")
    assert "configuration problem" in failure.message
