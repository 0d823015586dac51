"""Privacy screening only when it matters: when a cloud model is next, off the event loop, once
per distinct request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from orchestrate.models.base import Message, ModelRequest
from orchestrate.models.scripted import ScriptedFailure, ScriptedModel
from orchestrate.privacy.guard import PrivacyDecision, PrivacyGuard
from orchestrate.routing.failures import Failure, FailureKind

from .corpus import CORPUS
from .privacy_support import agent, make_router, scripted

TOKEN = CORPUS["github_token"][1]
PRIVATE = ModelRequest(
    system="You write code.",
    messages=(Message(role="user", content=f"The deploy script pushes with\n{TOKEN}\n"),),
)


class CountingGuard(PrivacyGuard):
    """The real guard, noting which thread each inspection ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def inspect(self, request: ModelRequest, files: Sequence[str] = ()) -> PrivacyDecision:
        self.threads.append(threading.current_thread().name)
        return super().inspect(request, files)


async def test_a_request_a_local_model_answers_first_is_never_screened() -> None:
    local, cloud = ScriptedModel(["done"]), ScriptedModel(["never"])
    guard = CountingGuard()
    with scripted(small=local, big=cloud):
        coder = agent("scripted:small", "scloud:big")
        router, ledger, _ = make_router(coder, guard)
        routed = await router.complete(coder, PRIVATE)

    assert routed.model_ref == "scripted:small"
    assert guard.threads == []
    # Nothing was about to leave the machine: no privacy decision to record.
    assert ledger.privacy_decisions("run-1") == []


async def test_screening_runs_when_the_cloud_fallback_is_next_and_off_the_loop() -> None:
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unavailable", "server down"))
    local, cloud, last = ScriptedModel([down]), ScriptedModel(["never"]), ScriptedModel(["ok"])
    guard = CountingGuard()
    with scripted(small=local, big=cloud, tiny=last):
        coder = agent("scripted:small", "scloud:big", "scripted:tiny")
        router, ledger, _ = make_router(coder, guard)
        routed = await router.complete(coder, PRIVATE)

    assert routed.model_ref == "scripted:tiny" and cloud.requests == []
    assert len(guard.threads) == 1
    assert guard.threads[0] != threading.main_thread().name
    actions = {d.action for d in ledger.privacy_decisions("run-1")}
    assert actions == {"local_only"}


async def test_one_distinct_request_is_screened_once_however_many_ask_at_once() -> None:
    clean = ModelRequest(messages=(Message(role="user", content="Write add(a, b). " * 500),))
    cloud = ScriptedModel(["a", "b", "c", "d"])
    guard = CountingGuard()
    with scripted(big=cloud):
        coder = agent("scloud:big")
        router, _, _ = make_router(coder, guard)
        answers = await asyncio.gather(*(router.complete(coder, clean) for _ in range(3)))
        later = await router.complete(coder, clean)

    assert sorted(a.response.text for a in [*answers, later]) == ["a", "b", "c", "d"]
    assert len(guard.threads) == 1
