"""`--cloud-batch` on the event loop: the saved-batch records are written (and fsynced) by a
thread of their own, never on the loop, yet a batch's id is on disk before anyone is told it was
sent; a poll loop no caller waits on any more is stopped, so a client closed under it leaves no
"Task exception was never retrieved"; a poll that fails reaches its caller as our own error,
and the retry waits on the same batch instead of paying for a new one."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
from pathlib import Path
from typing import Any

import anthropic
import pytest
from tests.batching.test_cloud_batch import CLAUDE, FAST, agent, ask, claude, creates, router, until

from orchestrate.batching.queue import BatchQueue
from orchestrate.config.schema import BUILTIN_ENDPOINTS
from orchestrate.events import Event, EventBus, RunNotice
from orchestrate.exceptions import BatchPollError
from orchestrate.models.anthropic import AnthropicModel
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_server import Reply

__all__ = ["claude"]  # the fixture, shared with the router tests


async def test_batch_records_are_written_off_the_loop_and_kept_before_anyone_is_told(
    claude: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    synced_on: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced_on.append(threading.get_ident())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    on_disk_when_told: list[list[str]] = []

    def told(event: Event) -> None:
        if isinstance(event, RunNotice) and "sent to" in event.text:
            on_disk_when_told.append(sorted(path.name for path in tmp_path.glob("*.json")))

    events = EventBus()
    events.subscribe(told)
    claude.default = Reply(text="a plan")
    planner = agent("planner", CLAUDE)
    routed, _ = router(BatchQueue(tmp_path, FAST), planner, events=events)

    answer = await routed.complete(planner, ask("repo"))

    assert answer.response.text == "a plan"
    [batch_id] = claude.batches.batches
    assert on_disk_when_told == [[f"{batch_id}.json"]]  # kept before anyone waits on it
    saved = json.loads((tmp_path / f"{batch_id}.json").read_text(encoding="utf-8"))
    assert [entry["spent"] for entry in saved["entries"]] == [True]
    assert len(synced_on) == 2  # submitted, then handed out
    assert loop_thread not in synced_on  # neither write blocked the event loop
    await routed.aclose()


async def test_a_poll_nobody_waits_on_stops_and_leaves_no_unretrieved_error(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    unhandled: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: unhandled.append(ctx))
    claude.default = Reply(text="the plan")
    claude.batches.polls_to_end = 100  # still running when the caller gives up
    planner = agent("planner", CLAUDE)
    dying, _ = router(BatchQueue(tmp_path, FAST), planner)
    waiting = asyncio.create_task(dying.complete(planner, ask("repo")))
    await until(lambda: any(b.retrievals for b in claude.batches.batches.values()))
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    looks = sum(b.retrievals for b in claude.batches.batches.values())
    await dying.aclose()  # the clients close; nothing closes the queue
    await asyncio.sleep(0.1)  # many poll periods: a poll still running would hit the closed client
    del dying, waiting
    gc.collect()  # a task's un-retrieved error is reported when the task is collected
    await asyncio.sleep(0)

    assert unhandled == []
    assert sum(b.retrievals for b in claude.batches.batches.values()) == looks
    assert os.listdir(tmp_path)  # the batch is still found by the next run


async def test_a_failed_poll_reaches_the_caller_as_our_error_and_the_retry_waits_on_the_batch(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    claude.default = Reply(text="the plan")
    claude.batches.busy_polls = 1  # the first look at the batch gets a 529
    planner = agent("planner", CLAUDE, retries=2)
    routed, ledger = router(BatchQueue(tmp_path, FAST), planner)

    answer = await routed.complete(planner, ask("repo"))

    assert answer.response.text == "the plan"
    assert creates(claude) == 1  # the retry waited on the batch already paid for
    failed, done = ledger.attempts("r1")
    assert (failed.outcome, failed.error_class) == ("retry", "overloaded")
    detail = failed.detail or ""
    assert detail.startswith("could not look at batch msgbatch_")
    assert "run the same command again" in detail
    assert done.outcome == "ok" and done.batch
    await routed.aclose()


async def test_a_caller_waiting_when_its_poll_fails_gets_our_error_saying_what_to_do(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    claude.default = Reply(text="the plan")
    claude.batches.polls_to_end = 100
    model = AnthropicModel("anthropic", "claude-sonnet-5-5", BUILTIN_ENDPOINTS["anthropic"], "k")
    queue, told = BatchQueue(tmp_path, FAST), list[str]()
    waiting = asyncio.create_task(queue.request(model.batch_api(), ask("repo"), "k1", told.append))
    await until(lambda: any(b.retrievals for b in claude.batches.batches.values()))

    await model.aclose()  # the client closes under the poll loop

    with pytest.raises(BatchPollError, match="run the same command again") as caught:
        await waiting
    assert isinstance(caught.value.__cause__, anthropic.APIConnectionError)
    assert os.listdir(tmp_path)  # the batch keeps running at the vendor, and is found again
    await queue.aclose()


async def test_closing_the_queue_cancels_and_awaits_its_poll_loops(
    claude: FakeAnthropic, tmp_path: Path
) -> None:
    claude.default = Reply(text="the plan")
    claude.batches.polls_to_end = 100
    planner = agent("planner", CLAUDE)
    queue = BatchQueue(tmp_path, FAST)
    routed, _ = router(queue, planner)
    waiting = asyncio.create_task(routed.complete(planner, ask("repo")))
    await until(lambda: any(b.retrievals for b in claude.batches.batches.values()))

    await queue.aclose()

    with pytest.raises(asyncio.CancelledError):
        await waiting  # the caller learns the queue stopped, rather than waiting forever
    assert [t for t in asyncio.all_tasks() if "Polls._poll" in repr(t)] == []
    await routed.aclose()
