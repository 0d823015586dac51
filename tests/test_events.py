"""The event bus keeps listeners apart: one that raises is dropped and reported, the rest go on."""

from __future__ import annotations

import asyncio

import pytest

from orchestrate.events import Event, EventBus, PlanReady, RunFinished, SubscriberFailed


class Broken:
    name = "--log /dev/full"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, event: Event) -> None:
        self.calls += 1
        raise OSError(28, "No space left on device")


def test_a_raising_listener_is_dropped_reported_and_the_others_hear_everything() -> None:
    bus = EventBus()
    before: list[Event] = []
    after: list[Event] = []
    broken = Broken()
    bus.subscribe(before.append)
    unsubscribe = bus.subscribe(broken)
    bus.subscribe(after.append)

    bus.emit(PlanReady(run_id="r", task="t", subtask_ids=["a"]))
    bus.emit(RunFinished(run_id="r", ok=True))

    assert broken.calls == 1  # dropped after its first failure
    # The failure is told at once, to every listener still there, before delivery carries on.
    assert [type(e) for e in before] == [PlanReady, SubscriberFailed, RunFinished]
    assert [type(e) for e in after] == [SubscriberFailed, PlanReady, RunFinished]
    failed = next(e for e in after if isinstance(e, SubscriberFailed))
    assert failed.subscriber == "--log /dev/full" and failed.run_id == "r"
    assert failed.error == "OSError: [Errno 28] No space left on device"
    unsubscribe()  # removing a dropped listener is harmless


def test_a_listener_failing_on_the_failure_report_is_dropped_too() -> None:
    bus = EventBus()
    survivors: list[Event] = []
    bus.subscribe(Broken())
    bus.subscribe(Broken())
    bus.subscribe(survivors.append)

    bus.emit(RunFinished(ok=True))

    assert [type(e) for e in survivors].count(SubscriberFailed) == 2
    assert isinstance(survivors[-1], RunFinished)


def test_cancellation_is_not_a_listener_failure() -> None:
    bus = EventBus()

    def cancelled(event: Event) -> None:
        raise asyncio.CancelledError

    bus.subscribe(cancelled)
    with pytest.raises(asyncio.CancelledError):
        bus.emit(RunFinished(ok=True))
