"""Every cloud model of every default chain, end to end through the real SDKs against the fakes.

The fakes answer 400, as the vendors document, to a parameter a model family refuses (sampling under
Anthropic's 2026-10-21, forced tools on Claude 5.x, temperature or an unknown effort on OpenAI's
reasoning models). Each call here must be served by the model it names: a refused request would move
on (and, with a one-model chain, fail), so any refused parameter fails the test. The agents are given
every setting a user might write, to prove the router drops what a model does not take.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from orchestrate.config.loader import load_config
from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.engine.plan import Plan
from orchestrate.engine.quick_review import QuickReview
from orchestrate.engine.review import Review
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.review.triage import TriageAnswer
from orchestrate.routing.routed import Routed
from orchestrate.routing.router import Router
from orchestrate.testing import fake_anthropic, fake_openai_responses
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import RecordedRequest, Reply

from .router_support import Sleeps

PLAN = Plan.model_validate(
    {
        "summary": "fix greet",
        "subtasks": [
            {
                "id": "fix",
                "title": "Fix the greeting",
                "kind": "code",
                "spec": "Return 'Hello, <name>!'.",
                "edit_files": ["greet.py"],
            }
        ],
    }
)
ANSWERS: dict[str, tuple[type[BaseModel] | None, str]] = {
    "planner": (Plan, PLAN.model_dump_json()),
    "reviewer": (Review, Review(verdict="approve", summary="fine").model_dump_json()),
    "triage": (TriageAnswer, TriageAnswer().model_dump_json()),
    "quick-reviewer": (QuickReview, QuickReview(verdict="approve", summary="ok").model_dump_json()),
}
"""What each agent asks for (its output type) and a valid answer; others want free text."""


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeAnthropic, FakeOpenAI]]:
    with FakeAnthropic() as claude, FakeOpenAI() as openai_fake:
        yield claude, openai_fake


def wired(claude: FakeAnthropic, openai_fake: FakeOpenAI) -> OrchestrateConfig:
    config = load_config()
    endpoints = dict(config.endpoints)
    endpoints["anthropic"] = endpoints["anthropic"].model_copy(update={"base_url": claude.url})
    endpoints["openai"] = endpoints["openai"].model_copy(update={"base_url": openai_fake.base_url})
    return config.model_copy(update={"endpoints": endpoints})


def cloud_calls() -> list[tuple[str, str]]:
    config = load_config()
    return [
        (name, ref)
        for name, agent in config.agents.items()
        for ref in agent.chain
        if config.endpoints[ref.split(":")[0]].tier == "cloud" and agent.privacy != "local_only"
    ]


def test_the_defaults_reach_every_family_the_issue_names() -> None:
    refs = {ref for _, ref in cloud_calls()}
    assert {
        "anthropic:claude-sonnet-5-5",
        "anthropic:claude-haiku-5-5",
        "openai:gpt-6.2-sol",
        "openai:gpt-6-luna",
    } <= refs


async def serve(
    fakes: tuple[FakeAnthropic, FakeOpenAI],
    monkeypatch: pytest.MonkeyPatch,
    agent_name: str,
    ref: str,
    update: dict[str, object],
) -> tuple[AgentConfig, Routed[BaseModel], RecordedRequest]:
    """One call of the default agent `agent_name` (its settings changed by `update`) served by
    `ref` alone through the real SDK; the agent, what came back, and the request the fake got."""
    claude, openai_fake = fakes
    for each in fakes:
        each.requests.clear()
        each.script.clear()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config = wired(claude, openai_fake)
    agent = config.agents[agent_name].model_copy(update={**update, "retries": 0})
    output_type, answer = ANSWERS.get(agent_name, (None, "done"))
    fake: FakeAnthropic | FakeOpenAI = claude if ref.startswith("anthropic:") else openai_fake
    fake.push(Reply(text=answer, thinking="first, the plan", output_tokens=30))
    router = Router(config, Ledger(None), run_id="defaults", sleep=Sleeps())
    request = ModelRequest(
        system="sys", messages=(Message(role="user", content="go"),), settings=agent.settings()
    )
    try:
        routed = await router.complete(agent, request, output_type, chain=[ref])
    finally:
        await router.aclose()
    assert routed.model_ref == ref
    [sent] = fake.requests
    return agent, routed, sent


@pytest.mark.parametrize(("agent_name", "ref"), cloud_calls())
async def test_each_default_cloud_model_is_served_without_a_refused_parameter(
    fakes: tuple[FakeAnthropic, FakeOpenAI],
    monkeypatch: pytest.MonkeyPatch,
    agent_name: str,
    ref: str,
) -> None:
    # Everything a user might set: the router must send each model only what it accepts.
    everything: dict[str, object] = {"temperature": 0.3, "effort": "none", "think": True}
    _, routed, sent = await serve(fakes, monkeypatch, agent_name, ref, everything)

    output_type, answer = ANSWERS.get(agent_name, (None, "done"))
    assert routed.response.thinking == "first, the plan"
    assert routed.response.text == answer  # thinking never spliced into the answer
    body = sent.json()
    if ref.startswith("anthropic:"):
        assert fake_anthropic.refusal_of(sent.headers["anthropic-version"], body) is None
        assert not {"temperature", "top_p", "top_k", "tools", "tool_choice"} & body.keys()
        if output_type is not None:
            assert body["output_config"]["format"]["type"] == "json_schema"
    else:
        assert sent.path == "/v1/responses"
        assert fake_openai_responses.refusal_of(body) is None
        if output_type is not None:
            assert body["text"]["format"]["strict"] is True


def test_every_default_agent_with_a_cloud_model_states_its_effort() -> None:
    """Issue 16: effort is chosen per agent for cost (thinking is billed as output), not left to
    each model's default: the triage and routine reviews ask little, the planner and reviewers
    ask much."""
    config = load_config()
    efforts = {name: config.agents[name].effort for name, _ in cloud_calls()}
    assert None not in efforts.values(), efforts
    assert efforts["triage"] == efforts["routine-reviewer"] == "low"
    assert efforts["planner"] == efforts["reviewer"] == efforts["deep-reviewer"] == "high"


@pytest.mark.parametrize(("agent_name", "ref"), cloud_calls())
async def test_each_default_agents_own_effort_reaches_the_wire(
    fakes: tuple[FakeAnthropic, FakeOpenAI],
    monkeypatch: pytest.MonkeyPatch,
    agent_name: str,
    ref: str,
) -> None:
    agent, _, sent = await serve(fakes, monkeypatch, agent_name, ref, {})

    body = sent.json()
    if ref.startswith("anthropic:"):
        assert body["output_config"]["effort"] == agent.effort
    else:
        assert body["reasoning"]["effort"] == agent.effort
