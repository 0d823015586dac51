"""`--cloud-batch` polling and OpenAI's batch lifecycle: a running batch is looked at less and
less often (doubling waits, capped, a little jitter); an OpenAI batch still `in_progress` when
the process dies is polled again after a restart, never submitted twice; an OpenAI batch that
`expired` hands back what finished and its expired requests go into a new batch; an answer
handed out once is never handed to a later run."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from tests.batching.test_cloud_batch import (
    CLAUDE,
    FAST,
    GPT,
    agent,
    ask,
    claude,
    creates,
    gpt,
    router,
    until,
)

from orchestrate.batching.queue import BatchQueue, BatchTiming
from orchestrate.ledger.pricing import Pricer
from orchestrate.models.base import Usage
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import Reply

__all__ = ["claude", "gpt"]  # the fixtures, shared with the router tests


async def test_a_running_batch_is_polled_with_doubling_waits_up_to_the_cap(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)  # the fake's clock is the poll count, not time

    claude.default = Reply(text="a plan")
    claude.batches.polls_to_end = 4  # in progress at the first four looks
    timing = BatchTiming(gather_s=0.0, first_poll_s=30.0, max_poll_s=100.0)
    queue = BatchQueue(tmp_path, timing, sleep=sleep, rng=random.Random(7))
    planner = agent("planner", CLAUDE)
    routed, _ = router(queue, planner)

    answer = await routed.complete(planner, ask("repo"))

    assert answer.response.text == "a plan"
    nominal = [30.0, 60.0, 100.0, 100.0, 100.0]
    assert len(waits) == len(nominal)  # four looks in progress, the fifth finds it ended
    for wait, expected in zip(waits, nominal, strict=True):
        assert expected * 0.9 <= wait <= expected * 1.1  # jitter, so processes do not poll in step
    await routed.aclose()


async def test_an_openai_batch_in_progress_when_the_process_died_is_polled_after_a_restart(
    gpt: FakeOpenAI, tmp_path: Path
) -> None:
    gpt.default = Reply(text="the plan", input_tokens=400, output_tokens=50)
    gpt.batches.polls_to_end = 100  # still running when the first process dies
    planner = agent("planner", GPT)
    dying, _ = router(BatchQueue(tmp_path, FAST), planner)
    waiting = asyncio.create_task(dying.complete(planner, ask("repo")))
    await until(lambda: any(job.status == "in_progress" for job in gpt.batches.jobs.values()))
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await dying.aclose()

    for job in gpt.batches.jobs.values():
        job.polls_left = 0  # it finishes while no process watches it
    restarted, ledger = router(BatchQueue(tmp_path, FAST), planner)
    answer = await restarted.complete(planner, ask("repo"))
    assert answer.response.text == "the plan"
    assert creates(gpt) == 1 and sum(r.path == "/v1/files" for r in gpt.requests) == 1
    [row] = ledger.attempts("r1")
    sync = Pricer.packaged(CLAUDE).cost(GPT, "cloud", Usage(input_tokens=400, output_tokens=50))
    assert row.batch and row.cost_usd == pytest.approx(sync / 2)
    await restarted.aclose()


async def test_an_expired_openai_batch_returns_what_finished_and_resubmits_the_rest(
    gpt: FakeOpenAI, tmp_path: Path
) -> None:
    gpt.push(
        Reply(text="finished in time"),
        Reply(error_type="expired"),  # the 24 hours ran out before this one ran
        Reply(text="second batch"),
    )
    planner = agent("planner", GPT)
    routed, ledger = router(BatchQueue(tmp_path, FAST), planner)
    first, second = await asyncio.gather(
        routed.complete(planner, ask("a")), routed.complete(planner, ask("b"))
    )
    # Which of the two joins the batch first is the screening threads' timing: any order.
    texts = sorted((first.response.text, second.response.text))
    assert texts == ["finished in time", "second batch"]
    assert [job.status for job in gpt.batches.jobs.values()] == ["expired", "completed"]
    assert creates(gpt) == 2
    failed = [row.error_class for row in ledger.attempts("r1") if row.outcome != "ok"]
    assert failed == ["batch_expired"]
    await routed.aclose()


async def test_an_answer_already_handed_out_is_never_handed_out_again(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    """A later run asking exactly the same thing gets (and pays for) its own answer: one already
    delivered was recorded in its own run's ledger, and handing it out again would put a cost
    in this ledger that no vendor charged."""
    claude.default = Reply(text="a plan", input_tokens=1000, output_tokens=200)
    planner = agent("planner", CLAUDE)
    first, _ = router(BatchQueue(tmp_path, FAST), planner)
    assert (await first.complete(planner, ask("repo"))).response.text == "a plan"
    await first.aclose()

    later, ledger = router(BatchQueue(tmp_path, FAST), planner)
    assert (await later.complete(planner, ask("repo"))).response.text == "a plan"
    assert creates(claude) == 2  # its own batch, billed by the vendor as this ledger says
    [row] = ledger.attempts("r1")
    assert row.batch
    await later.aclose()
