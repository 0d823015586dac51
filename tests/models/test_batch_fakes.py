"""The fakes of Anthropic's Message Batches API and OpenAI's Batch API, driven by the real SDKs:
submitted, in progress, partly failed, expired, in the vendors' documented shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages.batch_create_params import Request

from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

PARAMS: MessageCreateParamsNonStreaming = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "x"}],
}


@pytest.fixture
def claude() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def gpt() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


# Clients are closed at the end of each test: one left open is collected later, on another
# test's event loop, and its `aclose` fails there ("Event loop is closed").
@pytest.fixture
async def claude_client(claude: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        api_key="sk-ant-test", base_url=claude.url, max_retries=0
    ) as client:
        yield client


@pytest.fixture
async def gpt_client(gpt: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        api_key="sk-test", base_url=gpt.base_url, max_retries=0
    ) as client:
        yield client


async def test_a_message_batch_runs_then_ends_with_each_requests_own_result(
    claude: FakeAnthropic,
    claude_client: anthropic.AsyncAnthropic,
) -> None:
    claude.push(
        Reply(text="first", input_tokens=30, output_tokens=7),
        Reply(status=529, error="Overloaded", error_type="overloaded_error"),
        Reply(error_type="canceled"),
    )
    requests: list[Request] = [{"custom_id": f"r{i}", "params": PARAMS} for i in range(3)]
    batch = await claude_client.messages.batches.create(requests=requests)
    assert (batch.processing_status, batch.request_counts.processing) == ("in_progress", 3)
    assert batch.results_url is None
    assert (batch.expires_at - batch.created_at).total_seconds() == 24 * 3600

    polled = await claude_client.messages.batches.retrieve(batch.id)
    assert polled.processing_status == "in_progress"  # polls_to_end = 1
    ended = await claude_client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    counts = ended.request_counts
    assert (counts.succeeded, counts.errored, counts.canceled, counts.processing) == (1, 1, 1, 0)

    results = {
        line.custom_id: line.result
        async for line in await claude_client.messages.batches.results(batch.id)
    }
    assert list(results) == ["r2", "r1", "r0"]  # not in request order: match by custom_id
    ok = results["r0"]
    assert ok.type == "succeeded"
    assert ok.message.content[0].type == "text" and ok.message.content[0].text == "first"
    assert ok.message.usage.input_tokens == 30
    failed = results["r1"]
    assert failed.type == "errored"
    assert failed.error.error.type == "overloaded_error"
    assert results["r2"].type == "canceled"


async def test_an_expired_message_batch_expires_what_did_not_run(
    claude: FakeAnthropic, claude_client: anthropic.AsyncAnthropic
) -> None:
    claude.push(Reply(text="never seen"))
    batch = await claude_client.messages.batches.create(
        requests=[{"custom_id": "only", "params": PARAMS}]
    )
    claude.batches.expire(batch.id)
    ended = await claude_client.messages.batches.retrieve(batch.id)
    assert (ended.processing_status, ended.request_counts.expired) == ("ended", 1)
    [line] = [line async for line in await claude_client.messages.batches.results(batch.id)]
    assert (line.custom_id, line.result.type) == ("only", "expired")


async def test_a_message_batch_refuses_repeated_custom_ids(
    claude: FakeAnthropic, claude_client: anthropic.AsyncAnthropic
) -> None:
    with pytest.raises(anthropic.BadRequestError):
        await claude_client.messages.batches.create(
            requests=[{"custom_id": "a", "params": PARAMS}] * 2
        )


def chat_line(custom_id: str) -> str:
    body = {"model": "gpt-x", "messages": [{"role": "user", "content": custom_id}]}
    line = {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
    return json.dumps(line)


async def test_an_openai_batch_uploads_validates_runs_and_splits_outputs_from_errors(
    gpt: FakeOpenAI,
    gpt_client: openai.AsyncOpenAI,
) -> None:
    gpt.push(
        Reply(text="done", input_tokens=40, output_tokens=9),
        Reply(status=400, error="too long", error_type="context_length_exceeded"),
    )
    upload = await gpt_client.files.create(
        file=("requests.jsonl", "\n".join(chat_line(c) for c in ("a", "b")).encode()),
        purpose="batch",
    )
    assert (upload.object, upload.purpose) == ("file", "batch")
    batch = await gpt_client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.status == "validating"
    assert (await gpt_client.batches.retrieve(batch.id)).status == "in_progress"
    assert (await gpt_client.batches.retrieve(batch.id)).status == "in_progress"
    done = await gpt_client.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 1)
    assert done.output_file_id is not None and done.error_file_id is not None

    [output] = (await gpt_client.files.content(done.output_file_id)).text.splitlines()
    answered = json.loads(output)
    assert (answered["custom_id"], answered["error"]) == ("a", None)
    assert answered["response"]["status_code"] == 200
    assert answered["response"]["body"]["choices"][0]["message"]["content"] == "done"
    [error] = (await gpt_client.files.content(done.error_file_id)).text.splitlines()
    refused = json.loads(error)
    assert (refused["custom_id"], refused["error"]) == ("b", None)
    assert refused["response"]["status_code"] == 400
    assert refused["response"]["body"]["error"]["code"] == "context_length_exceeded"


async def test_an_expired_openai_batch_returns_what_finished_and_expires_the_rest(
    gpt: FakeOpenAI,
    gpt_client: openai.AsyncOpenAI,
) -> None:
    gpt.push(Reply(text="in time"), Reply(error_type="expired"))
    upload = await gpt_client.files.create(
        file=("requests.jsonl", "\n".join(chat_line(c) for c in ("a", "b")).encode()),
        purpose="batch",
    )
    batch = await gpt_client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    gpt.batches.expire(batch.id)
    expired = await gpt_client.batches.retrieve(batch.id)
    assert expired.status == "expired" and expired.expired_at is not None
    assert expired.output_file_id is not None and expired.error_file_id is not None
    [late] = (await gpt_client.files.content(expired.error_file_id)).text.splitlines()
    assert json.loads(late)["error"]["code"] == "batch_expired"
    assert json.loads(late)["response"] is None
    with pytest.raises(openai.BadRequestError):
        await gpt_client.files.create(file=("x.jsonl", b"{}"), purpose="fine-tune")


async def test_a_responses_batch_answers_responses_and_refuses_what_the_model_refuses(
    gpt: FakeOpenAI,
    gpt_client: openai.AsyncOpenAI,
) -> None:
    gpt.push(Reply(text="planned", input_tokens=50, output_tokens=8))
    good = {"model": "gpt-6.2-sol", "input": "plan it", "max_output_tokens": 100}
    bad = {**good, "temperature": 0.2}  # reasoning models take no temperature
    lines = [
        json.dumps({"custom_id": c, "method": "POST", "url": "/v1/responses", "body": b})
        for c, b in (("good", good), ("bad", bad))
    ]
    upload = await gpt_client.files.create(
        file=("requests.jsonl", "\n".join(lines).encode()), purpose="batch"
    )
    batch = await gpt_client.batches.create(
        input_file_id=upload.id, endpoint="/v1/responses", completion_window="24h"
    )
    for _ in range(3):
        batch = await gpt_client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    assert batch.output_file_id is not None and batch.error_file_id is not None
    [output] = (await gpt_client.files.content(batch.output_file_id)).text.splitlines()
    body = json.loads(output)["response"]["body"]
    response = openai.types.responses.Response.model_validate(body)
    assert (response.output_text, response.model) == ("planned", "gpt-6.2-sol")
    [refused] = (await gpt_client.files.content(batch.error_file_id)).text.splitlines()
    error = json.loads(refused)["response"]
    assert error["status_code"] == 400
    assert error["body"]["error"]["code"] == "unsupported_parameter"
    gpt.assert_drained()  # the refused request took no scripted reply
