"""`--cloud-batch` at the router: the calls that can wait go through Anthropic's Message Batches
API or OpenAI's Batch API (the real SDKs against the fakes), gathered into one batch, polled,
priced at the batch rate, retried into a new batch when they failed or expired, and found again
after a restart instead of being submitted twice."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrate.batching.queue import BatchQueue, BatchTiming
from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.events import Event, EventBus, RunNotice
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest, Usage
from orchestrate.routing.router import Router
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

CLAUDE = "anthropic:claude-sonnet-5-5"
GPT = "openai:gpt-6.2-sol"
FAST = BatchTiming(gather_s=0.05, first_poll_s=0.01, max_poll_s=0.02)


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        yield fake


@pytest.fixture
def gpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        yield fake


def agent(name: str, model: str, retries: int = 1) -> AgentConfig:
    return AgentConfig.model_validate(
        {"name": name, "model": model, "fallbacks": [], "retries": retries,
         "system_prompt": f"You are the {name}.", "max_tokens": 200}
    )  # fmt: skip


def router(
    queue: BatchQueue, *agents: AgentConfig, events: EventBus | None = None
) -> tuple[Router, Ledger]:
    config = OrchestrateConfig(
        agents={a.name: a for a in agents},
        endpoints=dict(BUILTIN_ENDPOINTS),
        prices=packaged_prices().prices,
        reference_model=CLAUDE,
    )
    ledger = Ledger(None)
    routed = Router(config, ledger, events=events or EventBus(), run_id="r1", batch=queue)
    return routed, ledger


def ask(text: str) -> ModelRequest:
    return ModelRequest(system="Plan it.", messages=(Message(role="user", content=text),))


async def until(ready: Callable[[], bool]) -> None:
    """Yield to the calls in flight until `ready` (a point in the run, found by polling)."""
    for _ in range(2000):
        if ready():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the run never got there")


def creates(fake: FakeAnthropic | FakeOpenAI) -> int:
    return sum(
        r.method == "POST" and r.path.rstrip("/").endswith("/batches") for r in fake.requests
    )


async def test_planner_calls_made_together_go_in_one_message_batch_at_half_price(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    claude.default = Reply(text="a plan", input_tokens=1000, output_tokens=200)
    seen: list[Event] = []
    events = EventBus()
    events.subscribe(seen.append)
    queue = BatchQueue(tmp_path, FAST)
    planner = agent("planner", CLAUDE)
    routed, ledger = router(queue, planner, events=events)

    answers = await asyncio.gather(*(routed.complete(planner, ask(f"repo {n}")) for n in range(3)))

    assert [a.response.text for a in answers] == ["a plan"] * 3
    assert creates(claude) == 1 and not any(r.path == "/v1/messages" for r in claude.requests)
    [batch] = claude.batches.batches.values()
    assert len(batch.items) == 3
    rows = ledger.attempts("r1")
    assert [row.batch for row in rows] == [True] * 3
    sync = Pricer.packaged(CLAUDE).cost(
        CLAUDE, "cloud", Usage(input_tokens=1000, output_tokens=200)
    )
    assert [row.cost_usd for row in rows] == [pytest.approx(sync / 2)] * 3
    notices = [e.text for e in seen if isinstance(e, RunNotice)]
    assert any("sent to Anthropic's Message Batches API as batch" in text for text in notices)
    await routed.aclose()


async def test_a_request_that_errored_or_expired_goes_into_a_new_batch(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    claude.push(
        Reply(text="first"),
        Reply(status=529, error="Overloaded", error_type="overloaded_error"),
        Reply(text="retried"),
    )
    queue = BatchQueue(tmp_path, FAST)
    planner = agent("planner", CLAUDE)
    routed, ledger = router(queue, planner)
    first, second = await asyncio.gather(
        routed.complete(planner, ask("a")), routed.complete(planner, ask("b"))
    )
    # Which of the two joins the batch first is the screening threads' timing: any order.
    assert sorted((first.response.text, second.response.text)) == ["first", "retried"]
    assert creates(claude) == 2
    rows = ledger.attempts("r1")
    assert [(row.outcome, row.error_class) for row in rows if row.outcome != "ok"] == [
        ("retry", "overloaded")
    ]

    # A batch whose 24 hours ran out: its request expired and goes into the next batch.
    claude.push(Reply(text="never"), Reply(text="in time"))
    claude.batches.polls_to_end = 100
    waiting = asyncio.create_task(routed.complete(planner, ask("c")))
    await until(lambda: creates(claude) == 3)
    claude.batches.expire(next(reversed(claude.batches.batches)))
    claude.batches.polls_to_end = 0
    assert (await waiting).response.text == "in time"
    assert ledger.attempts("r1")[-2].error_class == "batch_expired"
    await routed.aclose()


async def test_a_restarted_process_polls_the_batch_it_was_waiting_on_instead_of_paying_twice(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    claude.default = Reply(text="the plan", input_tokens=500, output_tokens=100)
    claude.batches.polls_to_end = 100  # still running when the first process dies
    planner = agent("planner", CLAUDE)
    dying, _ = router(BatchQueue(tmp_path, FAST), planner)
    waiting = asyncio.create_task(dying.complete(planner, ask("repo")))
    await until(lambda: creates(claude) == 1 and any(tmp_path.iterdir()))
    await asyncio.sleep(0.05)  # a few polls, then the process is gone
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await dying.aclose()
    assert os.listdir(tmp_path)  # the batch's id was kept

    for batch in claude.batches.batches.values():
        batch.polls_left = 0  # it ends while no process watches it
    restarted, ledger = router(BatchQueue(tmp_path, FAST), planner)
    answer = await restarted.complete(planner, ask("repo"))
    assert answer.response.text == "the plan"
    assert creates(claude) == 1  # polled the running batch; nothing submitted again
    assert [row.batch for row in ledger.attempts("r1")] == [True]
    await restarted.aclose()


async def test_openai_calls_go_through_files_and_the_batch_api_with_partial_failures(
    gpt: FakeOpenAI, tmp_path: Path
) -> None:
    gpt.push(
        Reply(text="plan one", input_tokens=800, output_tokens=100),
        Reply(status=500, error="server trouble"),
        Reply(text="plan two again", input_tokens=800, output_tokens=100),
    )
    queue = BatchQueue(tmp_path, FAST)
    planner = agent("planner", GPT)
    routed, ledger = router(queue, planner)
    answers = await asyncio.gather(
        routed.complete(planner, ask("one")), routed.complete(planner, ask("two"))
    )
    # Which of the two joins the batch first is the screening threads' timing: any order.
    assert sorted(a.response.text for a in answers) == ["plan one", "plan two again"]
    assert creates(gpt) == 2
    uploads = [r for r in gpt.requests if r.path == "/v1/files"]
    assert len(uploads) == 2 and b'"url": "/v1/responses"' in uploads[0].body
    ok = [row for row in ledger.attempts("r1") if row.outcome == "ok"]
    sync = Pricer.packaged(CLAUDE).cost(GPT, "cloud", Usage(input_tokens=800, output_tokens=100))
    assert [row.cost_usd for row in ok] == [pytest.approx(sync / 2)] * 2
    assert [row.error_class for row in ledger.attempts("r1") if row.outcome != "ok"] == [
        "server_error"
    ]
    await routed.aclose()


async def test_only_the_agents_that_can_wait_are_batched(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    claude.default = Reply(text="done")
    coder = agent("coder", CLAUDE)
    routed, ledger = router(BatchQueue(tmp_path, FAST), coder)
    await routed.complete(coder, ask("now"))
    assert creates(claude) == 0
    assert [row.batch for row in ledger.attempts("r1")] == [False]
    await routed.aclose()
