"""A subtask every worker model failed goes back to the planner, which rewrites, splits, picks a
stronger model or gives up; bounded, recorded before it is acted on, and said."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.engine.test_engine_scripted import (
    APPROVE,
    CALC,
    CALC_SUB,
    CHAINS,
    PY,
    TASK,
    make_engine,
    models,
    repo,
    step,
    whole,
)

from orchestrate.engine.commands import CommandRecord, Decision
from orchestrate.engine.plan import Subtask
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.replan import ReplanCase, ReplanRules, answer_type, ask_planner
from orchestrate.engine.report import batch_report, run_report
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.engine.result import Attempt
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_state import load_state
from orchestrate.engine.workspace import Workspace
from orchestrate.events import (
    Event,
    RunNotice,
    SubtaskFinished,
    SubtaskReplanned,
    SubtaskStatus,
)
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.pricing import Pricer
from orchestrate.models.base import ModelRequest
from orchestrate.models.scripted import ScriptedFailure, ScriptedModel
from orchestrate.routing.failures import Failure, FailureKind

__all__ = ["models", "repo"]  # fixtures, imported to be found by pytest

PRICER = Pricer(packaged_prices().prices, "anthropic:claude-sonnet-4-6")
SUB_CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
MUL_CHECK = f"{PY} -c 'import calc; assert calc.mul(5, 3) == 15'"
BOTH_CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2 and calc.mul(5, 3) == 15'"
CALC_SUB_MUL = CALC_SUB + "\n\ndef mul(a, b):\n    return a * b\n"
BOTH_WRONG = CALC + "\n\ndef sub(a, b):\n    return b - a\n\n\ndef mul(a, b):\n    return a + b\n"
ARITH = step("arith", "code", ["calc.py"], [BOTH_CHECK]) | {
    "spec": "Add sub(a, b) and mul(a, b) to calc.py."
}
ONE_SUBTASK = {"summary": "sub and mul", "subtasks": [ARITH]}
SPLIT = {
    "decision": "split",
    "reason": "Two functions at once is too much for the local model.",
    "subtasks": [
        step("add-sub", "code", ["calc.py"], [SUB_CHECK]) | {"spec": "Add sub(a, b)."},
        step("add-mul", "code", ["calc.py"], [MUL_CHECK], deps=["add-sub"])
        | {"spec": "Add mul(a, b)."},
    ],
}
GIVE_UP = {
    "decision": "give_up",
    "reason": "calc.py is generated from calc.in; the generator must change instead.",
}
ARITH_TASK = TASK.model_copy(update={"checks": [BOTH_CHECK]})


def one_at_a_time(request: ModelRequest) -> str:
    """A weak model: asked for two functions at once it gets both wrong; one, it gets right."""
    spec = request.messages[0].content
    if "sub(a, b) and mul(a, b)" in spec:
        return whole("calc.py", BOTH_WRONG)
    if "Add mul(a, b)." in spec:
        return whole("calc.py", CALC_SUB_MUL)
    return whole("calc.py", CALC_SUB)


def replanned(events: list[Event]) -> list[SubtaskReplanned]:
    return [event for event in events if isinstance(event, SubtaskReplanned)]


def finished(events: list[Event], sid: str) -> list[SubtaskFinished]:
    return [e for e in events if isinstance(e, SubtaskFinished) and e.subtask_id == sid]


async def test_a_worker_that_fails_until_the_spec_is_split_succeeds_after_the_replan(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(ONE_SUBTASK), json.dumps(SPLIT)], name="planner")
    models["coder"] = ScriptedModel([one_at_a_time] * 4, name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, max_fix_rounds=2)

    result = await engine.run(ARITH_TASK, "split-1")

    assert result.status == "approved", result.detail
    by_id = {r.id: r for r in result.subtasks}
    assert [r.id for r in result.subtasks] == ["add-sub", "add-mul", "arith"]
    assert by_id["add-sub"].status == by_id["add-mul"].status == "done"
    arith = by_id["arith"]
    assert arith.status == "done" and arith.rounds == 2
    assert arith.detail == "split into add-sub, add-mul: its parts are done"
    assert arith.replans == [
        "split into add-sub, add-mul by scripted:planner: "
        "Two functions at once is too much for the local model."
    ]
    commits = Workspace.open(repo, "split-1").commits()
    assert [c.trailers["Orchestrate-Subtask"] for c in commits] == ["add-sub", "add-mul"]
    # The planner saw the subtask, each attempt's errors as untrusted data, and the diff.
    asked = models["planner"].requests[1]
    assert asked.schema_name == "Replan" and asked.output_schema is not None
    assert set(asked.output_schema["properties"]) == {
        "decision",
        "reason",
        "spec",
        "subtasks",
        "model",
    }
    text = asked.messages[0].content
    assert "Add sub(a, b) and mul(a, b) to calc.py." in text
    assert "### Attempt 1, by scripted:coder" in text and "### Attempt 2, by scripted:coder" in text
    assert "<<<UNTRUSTED ATTEMPT 1 " in text and "<<<END UNTRUSTED ATTEMPT 2 " in text
    assert "AssertionError" in text and BOTH_CHECK in text
    assert "<<<UNTRUSTED DIFF " in text and "nothing committed yet" in text
    # Said once, as one decision; the subtask ended once, done, never reported failed.
    [said] = replanned(events)
    assert (said.subtask_id, said.decision, said.planner) == ("arith", "split", "scripted:planner")
    assert said.outcome == "split into add-sub, add-mul"
    assert [e.ok for e in finished(events, "arith")] == [True]
    assert not any(
        isinstance(e, SubtaskStatus) and e.subtask_id == "arith" and e.status == "failed"
        for e in events
    )
    # Costed under its own name; recorded in the run state.
    rows = engine.router.recorder.ledger.attempts("run-1")
    assert [row.agent for row in rows if row.agent == "replanner"] == ["replanner"]
    state = load_state(RepoFiles.of(repo).run("split-1").state)
    assert [(r.subtask_id, r.answer.decision) for r in state.replans] == [("arith", "split")]
    report = render_markdown(
        batch_report("plan.md", [run_report(result, rows, PRICER)], rows, PRICER, False)
    )
    assert "- re-planned arith: split into add-sub, add-mul by scripted:planner" in report


async def test_a_replan_that_gives_up_ends_the_subtask_with_the_planners_reason(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel(
        [json.dumps(ONE_SUBTASK), json.dumps(GIVE_UP)], name="planner"
    )
    models["coder"] = ScriptedModel([whole("calc.py", BOTH_WRONG)] * 2, name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, max_fix_rounds=2)

    result = await engine.run(ARITH_TASK, "give-up")

    [arith] = result.subtasks
    assert arith.status == "failed" and arith.failure == "task"
    assert arith.detail == f"the planner gave up on it: {GIVE_UP['reason']}"
    assert result.status == "changes_requested"
    assert [(e.decision, e.reason) for e in replanned(events)] == [("give_up", GIVE_UP["reason"])]
    [end] = finished(events, "arith")
    assert not end.ok and end.detail == arith.detail
    assert "arith: failed" in models["reviewer"].requests[0].messages[0].content


class Killed(BaseException):
    """Stands for the process being killed mid-run."""


async def test_a_resume_acts_on_the_recorded_decision_without_asking_again(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(ONE_SUBTASK), json.dumps(SPLIT)], name="planner")
    models["coder"] = ScriptedModel([one_at_a_time, one_at_a_time, Killed()], name="coder")
    engine, _ = make_engine(repo, models, CHAINS, max_fix_rounds=2)
    with pytest.raises(Killed):
        await engine.run(ARITH_TASK, "resumed")

    models["planner"] = ScriptedModel([], name="planner")  # asked again, it would fail the test
    models["coder"] = ScriptedModel([one_at_a_time] * 2, name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, max_fix_rounds=2)
    result = await engine.resume("resumed")

    assert result.status == "approved", result.detail
    assert models["planner"].requests == []
    specs = [request.messages[0].content for request in models["coder"].requests]
    assert "Add sub(a, b)." in specs[0] and "Add mul(a, b)." in specs[1]
    assert replanned(events) == []
    arith = {r.id: r for r in result.subtasks}["arith"]
    assert arith.replans and arith.replans[0].startswith("split into add-sub, add-mul")


async def test_a_stronger_model_the_planner_names_must_be_one_offered(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    chains = CHAINS | {"reviewer": ["scripted:reviewer", "scripted:strong"]}
    made_up = {"decision": "stronger", "reason": "needs care", "model": "scripted:imaginary"}
    stronger = made_up | {"model": "scripted:strong"}
    models["planner"] = ScriptedModel(
        [json.dumps(ONE_SUBTASK), json.dumps(made_up), json.dumps(stronger)], name="planner"
    )
    models["coder"] = ScriptedModel([whole("calc.py", BOTH_WRONG)], name="coder")
    models["strong"] = ScriptedModel([whole("calc.py", CALC_SUB_MUL)], name="strong")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, chains, max_fix_rounds=1)

    result = await engine.run(ARITH_TASK, "stronger")

    assert result.status == "approved", result.detail
    [arith] = result.subtasks
    assert arith.model == "scripted:strong" and arith.rounds == 2
    offered = models["planner"].requests[1].messages[0].content
    assert "`model` is one of: scripted:planner, scripted:reviewer, scripted:strong" in offered
    repair = models["planner"].requests[2].messages[-1].content
    assert "must be one of the models offered" in repair
    assert [e.outcome for e in replanned(events)] == ["now on scripted:strong"]


async def test_replans_are_bounded_per_subtask_and_can_be_turned_off(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    rewrite = {"decision": "rewrite", "reason": "clearer", "spec": "Write sub, then mul."}
    models["planner"] = ScriptedModel(
        [json.dumps(ONE_SUBTASK), json.dumps(rewrite)], name="planner"
    )
    models["coder"] = ScriptedModel([whole("calc.py", BOTH_WRONG)] * 2, name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, max_fix_rounds=1)

    result = await engine.run(ARITH_TASK, "bounded")

    # One re-plan by default: the rewritten spec failed too, and the planner was not asked again.
    [arith] = result.subtasks
    assert arith.status == "failed" and arith.rounds == 2
    assert arith.detail.startswith("no model got it right (scripted:coder)")
    assert arith.replans == ["spec rewritten by scripted:planner: clearer"]
    assert "Write sub, then mul." in models["coder"].requests[1].messages[0].content
    assert len(models["planner"].requests) == 2
    assert [e.ok for e in finished(events, "arith")] == [False]

    models["planner"] = ScriptedModel([json.dumps(ONE_SUBTASK)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", BOTH_WRONG)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS, max_fix_rounds=1, max_replans=0)

    result = await engine.run(ARITH_TASK, "no-replans")

    assert result.subtasks[0].status == "failed" and result.subtasks[0].replans == []
    assert len(models["planner"].requests) == 1


async def test_a_split_that_cannot_be_done_fails_the_subtask_it_replaced(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(ONE_SUBTASK), json.dumps(SPLIT)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", BOTH_WRONG)] * 2, name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, max_fix_rounds=1)

    result = await engine.run(ARITH_TASK, "split-fails")

    by_id = {r.id: r for r in result.subtasks}
    # The parts share the re-plan of the subtask they replace: none of them is re-planned.
    assert by_id["add-sub"].status == "failed" and by_id["add-sub"].replans == []
    assert by_id["add-mul"].detail == "skipped: it depends on add-sub, which failed"
    assert by_id["arith"].status == "failed"
    assert by_id["arith"].detail == "split into add-sub, add-mul: part(s) add-sub, add-mul failed"
    assert len(models["planner"].requests) == 2
    assert [e.ok for e in finished(events, "arith")] == [False]


def rules_case(answer: dict[str, Any]) -> str:
    rules = ReplanRules(
        models=("ollama:big",),
        taken_ids=frozenset({"arith", "docs"}),
        others_files={"README.md": "docs"},
    )
    try:
        answer_type(rules).model_validate_json(json.dumps(answer))
    except ValueError as error:
        return str(error)
    return "ok"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"decision": "rewrite", "reason": "r"}, "rewrite needs the new spec"),
        ({"decision": "stronger", "reason": "r", "model": "ollama:big"}, "ok"),
        ({"decision": "stronger", "reason": "r", "model": "x:y"}, "one of the models offered"),
        (SPLIT | {"subtasks": SPLIT["subtasks"][:1]}, "at least two subtasks"),
        (
            SPLIT
            | {
                "subtasks": [step("docs", "code", ["calc.py"], []), step("b", "code", ["b.py"], [])]
            },
            "ids docs are in use",
        ),
        (
            SPLIT
            | {"subtasks": [step("a", "code", ["README.md"], []), step("b", "code", ["x.py"], [])]},
            "edits README.md, which subtask 'docs' edits",
        ),
        (SPLIT | {"subtasks": [step("a", "code", ["calc.py"], [], deps=["c"])] * 2}, "unique"),
        (SPLIT, "ok"),
        (GIVE_UP, "ok"),
        ({"decision": "give_up", "reason": ""}, "at least 1 character"),
    ],
)
def test_a_decision_is_checked_against_the_run_so_a_wrong_one_is_repaired(
    answer: dict[str, Any], said: str
) -> None:
    assert said in rules_case(answer)


async def test_what_does_not_fit_the_planners_window_is_left_out_and_said(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(GIVE_UP)], name="planner")
    engine, _ = make_engine(repo, models, CHAINS)
    planner = engine.config.agents["planner"].model_copy(
        update={"num_ctx": 4096, "max_tokens": 1024}
    )
    attempts = [Attempt("scripted:coder", f"attempt {n}\n" + "x" * 3000) for n in range(1, 6)]
    task = TaskSpec(title="t", instructions="i", line=1)
    subtask = Subtask.model_validate(ARITH)
    rules = ReplanRules(models=(), taken_ids=frozenset({"arith"}))
    case = ReplanCase(task, subtask, "no model got it right", attempts, "+line\n" * 20_000, rules)

    answer, by, notes = await ask_planner(engine.router, planner, case, private=False)

    assert answer.decision == "give_up" and by == "scripted:planner"
    sent = models["planner"].requests[0].messages[0].content
    assert "### Attempt 5, by scripted:coder" in sent and "### Attempt 1," not in sent
    assert notes[0].startswith("attempts 1 to ") and notes[0].endswith(": left out for space")
    assert notes[1].startswith("the run's diff: its first ")
    assert "of 120,000 characters shown" in notes[1]


async def test_no_planner_to_ask_leaves_the_subtask_failed_and_a_busy_one_stops_the_run_resumable(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "connection refused"))
    models["planner"] = ScriptedModel([json.dumps(ONE_SUBTASK), down], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", BOTH_WRONG)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, max_fix_rounds=1)

    result = await engine.run(ARITH_TASK, "no-planner")

    # No planner there to ask: the subtask ends as its worker left it, said, and the run goes on.
    [arith] = result.subtasks
    assert arith.failure == "task" and "the planner could not re-plan it" in arith.detail
    assert result.status == "changes_requested" and result.review is not None
    assert [e.ok for e in finished(events, "arith")] == [False]

    busy = ScriptedFailure(Failure(FailureKind.RETRY, "overloaded", "529 overloaded"))
    models["planner"] = ScriptedModel([json.dumps(ONE_SUBTASK), busy], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", BOTH_WRONG)], name="coder")
    models["reviewer"] = ScriptedModel([], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS, max_fix_rounds=1)

    result = await engine.run(ARITH_TASK, "busy-planner")

    # A busy planner is an outage: the run stops, resumable, and a resume asks it again.
    assert result.status == "failed" and result.resumable
    assert result.subtasks[0].failure == "infrastructure"
    assert models["reviewer"].requests == []


async def test_a_splits_new_checks_are_the_planners_and_run_only_once_approved(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    asked: list[tuple[str, str, str]] = []

    async def approve(run_id: str, proposals: Sequence[CommandRecord]) -> list[Decision]:
        asked.extend((r.command, r.proposed_by, r.where) for r in proposals)
        return [
            Decision(approved_by="you" if r.command == SUB_CHECK else None, refusal="said no")
            for r in proposals
        ]

    models["planner"] = ScriptedModel([json.dumps(ONE_SUBTASK), json.dumps(SPLIT)], name="planner")
    models["coder"] = ScriptedModel([one_at_a_time] * 4, name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, max_fix_rounds=2)
    engine.approve = approve

    result = await engine.run(ARITH_TASK, "split-owned")

    # The parts' checks were asked about as the planner's, before they could run.
    assert asked == [
        (SUB_CHECK, "planner", "subtask add-sub"),
        (MUL_CHECK, "planner", "subtask add-mul"),
    ]
    records = {record.command: record for record in result.commands}
    assert records[SUB_CHECK].approved_by == "you" and records[SUB_CHECK].runs >= 1
    assert records[MUL_CHECK].approved_by is None and records[MUL_CHECK].runs == 0
    notices = [e.text for e in events if isinstance(e, RunNotice)]
    assert f"not running `{MUL_CHECK}` (proposed by planner): said no" in notices


async def test_a_split_beside_other_work_runs_its_parts_in_lanes_and_joins_in_its_turn(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    readme = step("readme", "format", ["README.md"], ["grep -q Usage README.md"])
    plan = {"summary": "sub, mul, docs", "subtasks": [ARITH, readme]}
    models["planner"] = ScriptedModel([json.dumps(plan), json.dumps(SPLIT)], name="planner")
    models["coder"] = ScriptedModel([one_at_a_time] * 4, name="coder")
    models["formatter"] = ScriptedModel(
        [whole("README.md", "# calc\n\n## Usage\n")], name="formatter"
    )
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS, max_fix_rounds=2, concurrency=2)

    result = await engine.run(ARITH_TASK, "split-lanes")

    assert result.status == "approved", result.detail
    by_id = {r.id: r for r in result.subtasks}
    assert by_id["arith"].status == by_id["readme"].status == "done"
    # The subtask they replace settles once its parts are done: readme, after it in the plan,
    # joins after them.
    commits = Workspace.open(repo, "split-lanes").commits()
    assert [c.trailers["Orchestrate-Subtask"] for c in commits] == ["add-sub", "add-mul", "readme"]
