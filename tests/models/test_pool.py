"""An endpoint with several hosts (`hosts:`): the real `ollama` SDK against three loopback
Ollama fakes of different speeds, one of which dies mid-run and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    EndpointConfig,
    HostConfig,
    OrchestrateConfig,
)
from orchestrate.events import AttemptFinished, Event, EventBus
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.models.pool import shared_pool
from orchestrate.routing.router import Router
from orchestrate.testing.fake_ollama import FakeOllama
from orchestrate.testing.fake_server import Reply

MODEL = "qwen2.5-coder:7b"
COOLDOWN_S = 0.3


@pytest.fixture
def hosts() -> Iterator[list[FakeOllama]]:
    with ExitStack() as stack:
        fakes = [stack.enter_context(FakeOllama()) for _ in range(3)]
        for fake, delay in zip(fakes, (0.01, 0.05, 0.2), strict=True):  # fast, medium, slow
            fake.default = Reply(text=f"from {fake.url}", delay_s=delay)
        yield fakes


def pooled(
    hosts: list[FakeOllama], concurrency: int = 1, cooldown_s: float = COOLDOWN_S
) -> EndpointConfig:
    return EndpointConfig(
        kind="ollama",
        tier="local",
        hosts=tuple(HostConfig(url=fake.url, concurrency=concurrency) for fake in hosts),
        host_cooldown_s=cooldown_s,
    )


def coder(retries: int = 0) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "name": "coder",
            "model": f"pool:{MODEL}",
            "fallbacks": [],
            "retries": retries,
            "system_prompt": "You write code.",
            "max_tokens": 50,
        }
    )


def router_for(endpoint: EndpointConfig, events: EventBus | None = None) -> tuple[Router, Ledger]:
    config = OrchestrateConfig(
        agents={"coder": coder()},
        endpoints={**BUILTIN_ENDPOINTS, "pool": endpoint},
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    ledger = Ledger(None)
    return Router(config, ledger, events=events or EventBus(), run_id="r1"), ledger


def ask(conversation: str, round_no: int = 1) -> ModelRequest:
    """A worker's round: its first message shows the files as they are now (they change from
    round to round); the conversation it names does not."""
    turns = [Message(role="user", content=f"files after round {round_no - 1}")]
    if round_no > 1:
        turns += [
            Message(role="assistant", content=f"attempt {round_no - 1}"),
            Message(role="user", content=f"check failed {round_no - 1}"),
        ]
    return ModelRequest(
        system="You write code.", messages=tuple(turns), conversation=f"run/{conversation}"
    )


async def until(ready: Callable[[], bool]) -> None:
    """Yield to the requests in flight until `ready` (a point in the run, found by polling)."""
    for _ in range(2000):
        if ready():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the run never got there")


def served_by(fake: FakeOllama) -> int:
    return sum(request.path == "/api/chat" for request in fake.requests)


async def test_load_follows_speed_a_dying_host_loses_no_call_and_returns_after_recovery(
    hosts: list[FakeOllama],
) -> None:
    fast, medium, slow = hosts
    seen: list[Event] = []
    events = EventBus()
    events.subscribe(seen.append)
    router, ledger = router_for(pooled(hosts), events)
    agent = coder()

    async def one(index: int) -> str:
        routed = await router.complete(agent, ask(f"c{index}"))
        return routed.response.host

    # Wave 1: twelve requests over three hosts of one slot each; the medium host dies once it
    # has taken two, while one of its requests is in flight.
    wave = [asyncio.create_task(one(i)) for i in range(12)]
    await until(lambda: served_by(medium) >= 2)
    medium.kill()
    served = await asyncio.gather(*wave)

    assert len(served) == 12  # no call lost
    assert served.count(fast.url) > served.count(slow.url)  # the fast host took more
    rows = ledger.attempts("r1")
    failed = [row for row in rows if row.outcome != "ok"]
    assert failed and {row.host for row in failed} == {medium.url}
    assert {row.error_class for row in failed} <= {"connection", "unreachable"}
    answered = [row for row in rows if row.outcome == "ok"]
    assert sorted(row.host for row in answered) == sorted(served)
    attempts = [event for event in seen if isinstance(event, AttemptFinished)]
    assert {event.host for event in attempts} == {row.host for row in rows}

    # Wave 2, with the medium host still down: nothing is lost, nothing goes to it.
    before = served_by(medium)
    assert medium.url not in await asyncio.gather(*(one(i) for i in range(20, 24)))
    assert served_by(medium) == before

    # It comes back: once its cooldown ends, a probe succeeds and it takes requests again.
    medium.revive()
    pool = shared_pool("pool", pooled(hosts).hosts, COOLDOWN_S)
    back = pool.hosts[1].out_until - time.monotonic()
    await asyncio.sleep(max(0.0, back))
    hosts_then = await asyncio.gather(*(one(i) for i in range(40, 46)))
    assert medium.url in hosts_then
    assert pool.hosts[1].failures == 0
    await router.aclose()


async def test_a_fix_round_goes_back_to_its_host_unless_that_host_is_too_busy(
    hosts: list[FakeOllama],
) -> None:
    first, second, _ = hosts
    first.default = second.default = Reply(text="ok", delay_s=0.3)
    router, ledger = router_for(pooled(hosts[:2]))
    agent = coder()

    # `first` is busy with another conversation, so conversation X's first round goes to
    # `second`; its fix round then goes back to `second` though `first` is free again.
    busy = asyncio.create_task(router.complete(agent, ask("other")))
    await until(lambda: served_by(first) >= 1)
    x1 = await router.complete(agent, ask("X"))
    await busy
    assert x1.response.host == second.url
    x2 = await router.complete(agent, ask("X", round_no=2))
    assert x2.response.host == second.url

    # Three rounds of X at once: the first takes `second`, the next waits its turn there (one
    # more than `first` has is not more than its one slot), the third would make `second`
    # busier than `first` by more than its slot, so it goes to `first`.
    three = await asyncio.gather(*(router.complete(agent, ask("X", round_no=n)) for n in (3, 4, 5)))
    assert [routed.response.host for routed in three] == [second.url, second.url, first.url]
    assert all(row.outcome == "ok" for row in ledger.attempts("r1"))
    await router.aclose()


async def test_every_host_down_moves_on_like_an_unreachable_endpoint(
    hosts: list[FakeOllama],
) -> None:
    for fake in hosts:
        fake.kill()
    # A cooldown longer than the three refusals can take on a loaded machine: a host whose
    # cooldown ran out would be probed again before the last one was tried.
    router, ledger = router_for(pooled(hosts, cooldown_s=60.0))
    with pytest.raises(Exception, match="no model could answer"):
        await router.complete(coder(), ask("lost"))
    rows = ledger.attempts("r1")
    assert [row.host for row in rows] == [fake.url for fake in hosts]
    assert rows[-1].error_class == "unreachable" and rows[-1].outcome == "move_on"
    await router.aclose()


def test_hosts_in_providers_yaml() -> None:
    endpoint = EndpointConfig.model_validate(
        {
            "kind": "openai",
            "tier": "local",
            "hosts": [{"url": "http://a:8000/v1", "concurrency": 2}, {"url": "http://b:8000/v1"}],
        }
    )
    assert endpoint.concurrency == 3  # the endpoint's limit is its hosts' together
    with pytest.raises(ValueError, match="either base_url or hosts"):
        EndpointConfig(
            kind="ollama", tier="local", base_url="http://a", hosts=(HostConfig(url="http://b"),)
        )
    with pytest.raises(ValueError, match="llamacpp endpoint has no servers to pool"):
        EndpointConfig(kind="llamacpp", tier="local", hosts=(HostConfig(url="http://b"),))
