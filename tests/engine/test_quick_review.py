"""The quick review: a cheap model may approve a small, check-verified change; anything else goes
to the full reviewer. Both reviewers are Claude models behind the fake Anthropic server, reached
through the real `anthropic` SDK; the quick reviewer is the packaged agent (its prompt, effort and
limits as shipped)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC_SUB,
    CHANGES,
    FOLLOW_UP,
    PRICER,
    PY,
    TASK,
    TRUSTED,
    models,
    repo,
    whole,
)

from orchestrate.config.loader import load_config
from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.engine.checks import CheckResult
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.plan import Plan
from orchestrate.engine.quick_review import QuickReview, changed_lines, eligibility
from orchestrate.engine.report import batch_report, run_report
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.engine.result import RunResult, SubtaskResult
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_state import RunState, load_state
from orchestrate.events import Event, EventBus, RunNotice
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import ScriptedModel, register_scripted
from orchestrate.routing.router import Router
from orchestrate.testing.fake_anthropic import FakeAnthropic
from orchestrate.testing.fake_server import Reply

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest

HAIKU, SONNET = "claude-haiku-5-5", "claude-sonnet-5-5"
SUB_CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
NAMED = TASK.model_copy(update={"files": ["calc.py"], "checks": [SUB_CHECK]})
"""Runs as written (no planner): one subtask editing calc.py, its check the task's."""
QUICK_OK = {"verdict": "approve", "summary": "sub is added and checked.", "comments": []}
QUICK_NO = {"verdict": "escalate", "summary": "QUICK-OPINION: unsure about sub.", "comments": []}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as claude:
        yield claude


@pytest.fixture
def claude(server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    server.reset()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-000000")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return server


def _scripted(name: str) -> AgentConfig:
    return AgentConfig(
        name=name, model=f"scripted:{name}", system_prompt=f"You are the {name}.", retries=0
    )


def quick_engine(
    repo: Path,
    claude: FakeAnthropic,
    coder: list[str],
    quick_chain: list[str] | None = None,
    **options: Any,
) -> tuple[Engine, list[Event]]:
    register_scripted("coder", ScriptedModel(coder, name="coder"))
    shipped = load_config().agents["quick-reviewer"]
    quick = shipped.model_copy(update={"retries": 0})
    if quick_chain is not None:
        quick = quick.model_copy(update={"model": quick_chain[0], "fallbacks": quick_chain[1:]})
    reviewer = AgentConfig(
        name="reviewer",
        model=f"anthropic:{SONNET}",
        system_prompt="You are the reviewer.",
        retries=0,
    )
    agents = {name: _scripted(name) for name in ("planner", "coder", "tester", "formatter")}
    endpoints = dict(BUILTIN_ENDPOINTS)
    endpoints["anthropic"] = endpoints["anthropic"].model_copy(update={"base_url": claude.url})
    config = OrchestrateConfig(
        agents={**agents, "reviewer": reviewer, "quick-reviewer": quick},
        endpoints=endpoints,
        prices=packaged_prices().prices,
        reference_model=f"anthropic:{SONNET}",
    )
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    router = Router(config, Ledger(None), events=bus, run_id="run-1")
    engine = Engine(
        config,
        router,
        repo,
        events=bus,
        options=EngineOptions(check_timeout=60, **options),
        approve=TRUSTED,
    )
    return engine, events


def asked(claude: FakeAnthropic) -> list[str]:
    return [request.json()["model"] for request in claude.requests]


def notices(events: list[Event]) -> list[str]:
    return [event.text for event in events if isinstance(event, RunNotice)]


def markdown(result: RunResult) -> str:
    task = run_report(result, [], PRICER)
    return render_markdown(batch_report("plan.md", [task], [], PRICER, dry_run=False))


async def test_a_small_checked_change_is_approved_by_the_quick_reviewer_alone(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    claude.push(Reply(text=json.dumps(QUICK_OK)))
    engine, events = quick_engine(repo, claude, [whole("calc.py", CALC_SUB)])

    result = await engine.run(NAMED, "quick-ok")

    assert result.status == "approved", result.detail
    assert asked(claude) == [HAIKU]  # no Sonnet call at all
    body = claude.requests[0].json()
    # The packaged agent as shipped: its effort and its smaller schema (no follow-ups).
    assert body["output_config"]["effort"] == "low"
    schema = json.dumps(body["output_config"]["format"])
    assert "escalate" in schema and "follow_ups" not in schema
    prompt = body["messages"][-1]["content"]
    prompt = prompt if isinstance(prompt, str) else prompt[0]["text"]
    assert "+def sub(a, b):" in prompt and "Approve only when" in prompt
    assert "follow_ups" not in prompt
    assert result.review is not None and result.review.summary == QUICK_OK["summary"]
    assert result.reviewed_by.startswith(f"quick-reviewer anthropic:{HAIKU}")
    said = [line for line in notices(events) if line.startswith("quick review by")]
    assert said == [
        f"quick review by anthropic:{HAIKU} approved: 4 changed lines, task checks pass; "
        "--full-review for the full reviewer"
    ]
    assert f"- reviewed by: quick-reviewer anthropic:{HAIKU}" in markdown(result)
    # Kept in the run's state, so a resumed (or re-read) run reports it the same.
    state = load_state(RepoFiles.of(repo).run("quick-ok").state)
    assert state.reviewed_by == result.reviewed_by
    assert state.result is not None and state.result.reviewed_by == result.reviewed_by
    assert (await engine.resume("quick-ok")).reviewed_by == result.reviewed_by


async def test_an_escalation_goes_to_the_full_reviewer_without_the_quick_opinion(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    claude.push(Reply(text=json.dumps(QUICK_NO)), Reply(text=json.dumps(APPROVE)))
    engine, events = quick_engine(repo, claude, [whole("calc.py", CALC_SUB)])

    result = await engine.run(NAMED, "quick-no")

    assert result.status == "approved", result.detail
    assert asked(claude) == [HAIKU, SONNET]
    assert "QUICK-OPINION" not in claude.requests[1].body.decode()
    assert "follow_ups" in claude.requests[1].body.decode()  # the full reviewer's schema
    assert "quick review escalated to the full reviewer: QUICK-OPINION: unsure about sub." in (
        notices(events)
    )
    assert result.reviewed_by == f"reviewer (the quick reviewer anthropic:{HAIKU} escalated)"
    assert "- reviewed by: reviewer (the quick reviewer" in markdown(result)


async def test_an_approval_with_an_error_comment_escalates(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    error = {"path": "calc.py", "line": 5, "severity": "error", "body": "sub is reversed"}
    claude.push(
        Reply(text=json.dumps({**QUICK_OK, "comments": [error]})),
        Reply(text=json.dumps(APPROVE)),
    )
    engine, events = quick_engine(repo, claude, [whole("calc.py", CALC_SUB)])

    result = await engine.run(NAMED, "quick-error")

    assert asked(claude) == [HAIKU, SONNET]
    assert "quick review escalated to the full reviewer: sub is reversed" in notices(events)
    assert result.review is not None and result.review.summary == APPROVE["summary"]


async def test_full_review_skips_the_quick_reviewer(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    claude.push(Reply(text=json.dumps(APPROVE)))
    engine, _ = quick_engine(repo, claude, [whole("calc.py", CALC_SUB)], full_review=True)

    result = await engine.run(NAMED, "full")

    assert asked(claude) == [SONNET]
    assert result.reviewed_by == "reviewer (--full-review)"


async def test_a_change_over_the_line_limit_goes_to_the_full_reviewer(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    claude.push(Reply(text=json.dumps(APPROVE)))
    engine, _ = quick_engine(repo, claude, [whole("calc.py", CALC_SUB)], quick_review_lines=3)

    result = await engine.run(NAMED, "big")

    assert asked(claude) == [SONNET]
    assert result.reviewed_by == "reviewer (no quick review: over 3 lines)"


async def test_failing_task_checks_go_to_the_full_reviewer(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    claude.push(Reply(text=json.dumps({**APPROVE, "verdict": "request_changes"})))
    failing = NAMED.model_copy(update={"checks": [SUB_CHECK, f"{PY} -c 'raise SystemExit(1)'"]})
    # The subtask's own check passes; the task's second check fails on the branch.
    engine, _ = quick_engine(repo, claude, [whole("calc.py", CALC_SUB)] * 3, max_review_rounds=1)

    result = await engine.run(failing, "failing")

    assert asked(claude) == [SONNET]
    assert result.status == "changes_requested"


async def test_a_follow_up_round_gets_the_full_reviewer(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    changes = {**CHANGES, "follow_ups": [{**FOLLOW_UP, "checks": [SUB_CHECK]}]}
    claude.push(
        Reply(text=json.dumps(QUICK_NO)),
        Reply(text=json.dumps(changes)),
        Reply(text=json.dumps(APPROVE)),
    )
    doc = '"""Tiny calculator."""\n\n\n' + CALC_SUB
    engine, _ = quick_engine(repo, claude, [whole("calc.py", CALC_SUB), whole("calc.py", doc)])

    result = await engine.run(NAMED, "rounds")

    assert result.status == "approved", result.detail
    assert asked(claude) == [HAIKU, SONNET, SONNET]  # round two: no quick review
    assert result.reviewed_by == "reviewer (no quick review: a follow-up round)"


async def test_no_usable_quick_model_falls_through_to_the_full_reviewer(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    claude.push(Reply(text=json.dumps(APPROVE)))
    # OpenAI's cheap tier without a key: no quick-review model can be asked.
    engine, events = quick_engine(
        repo, claude, [whole("calc.py", CALC_SUB)], quick_chain=["openai:gpt-6-luna"]
    )

    result = await engine.run(NAMED, "no-quick")

    assert result.status == "approved", result.detail
    assert asked(claude) == [SONNET]
    assert any(line.startswith("quick review: no model was usable") for line in notices(events))
    assert result.reviewed_by == "reviewer (no quick-review model was usable)"


async def test_a_rejected_quick_review_request_stops_the_run(
    repo: Path, claude: FakeAnthropic, models: dict[str, ScriptedModel]
) -> None:
    claude.push(Reply(status=400, error="messages: bad request"))
    engine, _ = quick_engine(repo, claude, [whole("calc.py", CALC_SUB)])

    result = await engine.run(NAMED, "rejected")

    assert asked(claude) == [HAIKU]  # a 400 is not retried elsewhere, nor sent to Sonnet
    assert result.status == "failed"
    assert result.detail.startswith("review failed")


def test_changed_lines_counts_inside_hunks_only() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n keep\n"
        "--- a removed line that looks like a header\n+++ an added one\n keep\n"
        "@@ -10 +10,2 @@\n-x\n+y\n+z\n\\ No newline at end of file\n"
    )
    assert changed_lines(diff) == 5
    assert (
        changed_lines("diff --git a/b.png b/b.png\nBinary files a/b.png and b/b.png differ\n")
        is None
    )


def test_the_quick_answer_has_no_follow_ups_and_old_states_still_load() -> None:
    assert "follow_ups" not in QuickReview.model_json_schema()["properties"]
    old = RunState(run_id="r", task=TASK).model_dump(mode="json")
    del old["reviewed_by"]  # saved before the field existed
    assert RunState.model_validate_json(json.dumps(old)).reviewed_by == ""


PASS = CheckResult(command="check", ok=True, exit_code=0, output="", duration_s=0.1)
FAIL = PASS.model_copy(update={"ok": False, "exit_code": 1})
ONE_PLAN = Plan.model_validate(
    {
        "summary": "Add sub.",
        "subtasks": [
            {"id": "sub", "title": "Add sub", "kind": "code", "spec": "Add sub(a, b).",
             "edit_files": ["calc.py"], "checks": ["check"]}
        ],
    }
)  # fmt: skip
DONE = SubtaskResult(
    id="sub", title="Add sub", kind="code", agent="coder", status="done", commit="c" * 40,
    model="m", rounds=1, detail="done", checks=[PASS],
)  # fmt: skip
SMALL_DIFF = (
    "diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,4 @@\n"
    " def add(a, b):\n     return a + b\n+def sub(a, b):\n+    return a - b\n"
)


def _state(**update: Any) -> RunState:
    state = RunState(
        run_id="r", task=TASK, plan=ONE_PLAN, batch=list(ONE_PLAN.subtasks), results=[DONE],
        task_checks=[PASS],
    )  # fmt: skip
    return state.model_copy(update=update)


@pytest.mark.parametrize(
    ("state", "diff", "changed", "options", "why_not"),
    [
        (_state(), SMALL_DIFF, ["calc.py"], {}, ""),
        (_state(task_checks=[]), SMALL_DIFF, ["calc.py"], {}, ""),  # the subtask's own passed
        (_state(reviews=1), SMALL_DIFF, ["calc.py"], {}, "a follow-up round"),
        (
            _state(results=[DONE.model_copy(update={"status": "failed"})]),
            SMALL_DIFF, ["calc.py"], {}, "work not done",
        ),
        (_state(task_checks=[FAIL]), SMALL_DIFF, ["calc.py"], {}, "no check verified the work"),
        (
            _state(task_checks=[], results=[DONE.model_copy(update={"checks": []})]),
            SMALL_DIFF, ["calc.py"], {}, "no check verified the work",
        ),
        (
            _state(),
            "diff --git a/a.png b/a.png\nBinary files a/a.png and b/a.png differ\n",
            ["calc.py"], {}, "a binary file changed",
        ),
        (_state(), SMALL_DIFF, ["calc.py"], {"quick_review_lines": 1}, "over 1 lines"),
        (
            _state(), SMALL_DIFF + "+" + "x" * 40_000 + "\n", ["calc.py"],
            {"local_only": True}, "the diff would be cut",
        ),
        (
            _state(results=[DONE.model_copy(update={"flagged": ["calc.py: writes a key"]})]),
            SMALL_DIFF, ["calc.py"], {}, "a sensitive change",
        ),
        (
            _state(), SMALL_DIFF, ["calc.py", ".github/workflows/ci.yml"], {},
            "a sensitive change",
        ),
        (
            _state(), SMALL_DIFF, ["calc.py", "setup.py"], {},
            "a file the plan did not name changed",
        ),
    ],
)  # fmt: skip
def test_only_a_first_small_verified_confined_change_is_eligible(
    state: RunState, diff: str, changed: list[str], options: dict[str, Any], why_not: str
) -> None:
    agent = load_config().agents["quick-reviewer"]  # num_ctx 16384: a local limit of 24,576

    found = eligibility(state, EngineOptions(**options), agent, diff, changed)

    assert found.why_not == why_not
