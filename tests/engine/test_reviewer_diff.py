"""A diff too long for the reviewer is cut, and the cut is said: an event and a report line."""

from __future__ import annotations

import json

from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.reviewer import review_run
from orchestrate.events import ContentOmitted, Event, EventBus
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.routing.router import Router

APPROVE = {"verdict": "approve", "summary": "ok", "comments": [], "follow_ups": []}


async def test_a_cut_diff_is_an_event_and_a_note() -> None:
    reviewer = ScriptedModel([json.dumps(APPROVE)], name="rev")
    register_scripted("rev", reviewer)
    agent = AgentConfig(
        name="reviewer", model="scripted:rev", system_prompt="Review.", num_ctx=1024, max_tokens=64
    )
    config = OrchestrateConfig(
        agents={"reviewer": agent},
        endpoints=dict(BUILTIN_ENDPOINTS),
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    router = Router(config, Ledger(None), events=bus, run_id="r")
    task = TaskSpec(title="t", instructions="do it", line=1)
    plan = Plan.model_validate(
        {
            "subtasks": [
                {"id": "a", "title": "t", "kind": "code", "spec": "s", "edit_files": ["a.py"]}
            ]
        }
    )
    omitted: list[str] = []
    try:
        review = await review_run(
            router,
            agent,
            task,
            plan,
            diff="+x\n" * 2_000,
            results=[],
            checks=[],
            private=True,
            omitted=omitted,
        )
    finally:
        unregister_scripted("rev")
    assert review.verdict == "approve"
    [event] = [e for e in events if isinstance(e, ContentOmitted)]
    assert event.what == "the combined diff: its first 1,536 of 6,000 characters shown"
    assert omitted == [f"reviewer: {event.what}"]
    assert "[… diff cut …]" in reviewer.requests[0].messages[0].content
