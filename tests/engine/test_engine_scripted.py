"""A whole run with scripted models: plan → concurrent workers → checks → review → follow-up."""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.report import batch_report, run_report
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.engine.workspace import Workspace
from orchestrate.events import (
    ContentOmitted,
    Escalated,
    Event,
    EventBus,
    PlanReady,
    ReviewVerdict,
    RunFinished,
    RunNotice,
    SubtaskFinished,
    SubtaskStarted,
    SubtaskStatus,
)
from orchestrate.exceptions import RepoError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import ModelRequest, ModelResponse, TokenCallback
from orchestrate.models.scripted import (
    ScriptedFailure,
    ScriptedModel,
    Step,
    register_scripted,
    unregister_scripted,
)
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.routing.router import Router

from .big_module import big_module, function

PY = shlex.quote(sys.executable)
PRICER = Pricer(packaged_prices().prices, "anthropic:claude-sonnet-4-6")
TRUSTED = BatchPolicy((), trust_model_checks=True)
"""The scripted planner's and reviewer's checks run: these tests are about the run loop."""
CALC = "def add(a, b):\n    return a + b\n"
CALC_SUB_BAD = CALC + "\n\ndef sub(a, b):\n    return b - a\n"
CALC_SUB = CALC + "\n\ndef sub(a, b):\n    return a - b\n"
CALC_DOC = '"""Tiny calculator."""\n\n\n' + CALC_SUB
TEST_BAD = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 3\n"
TEST_GOOD = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
README = "# calc\n\n## Usage\n\n`from calc import add, sub`\n"
# A ten-line test runner in the project: pytest itself would take a second per check.
RUNNER = """import importlib, sys
sys.path.insert(0, ".")
module = importlib.import_module("tests.test_calc")
for name, test in sorted(vars(module).items()):
    if name.startswith("test_"):
        test()
        print("passed", name)
"""
PYTEST = f"{PY} run_tests.py"


def whole(path: str, text: str) -> str:
    return f"{path}\n```python\n{text}```\n"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    (root / "README.md").write_text("# calc\n")
    (root / "tests" / "__init__.py").write_text("")
    (root / "run_tests.py").write_text(RUNNER)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def models() -> Iterator[dict[str, ScriptedModel]]:
    registered: dict[str, ScriptedModel] = {}
    yield registered
    for name in registered:
        unregister_scripted(name)


def agent(name: str, chain: Sequence[str]) -> AgentConfig:
    return AgentConfig(
        name=name,
        model=chain[0],
        fallbacks=list(chain[1:]),
        system_prompt=f"You are the {name}.",
        retries=0,
    )


def make_engine(
    repo: Path, models: dict[str, ScriptedModel], chains: dict[str, list[str]], **options: Any
) -> tuple[Engine, list[Event]]:
    for name, model in models.items():
        register_scripted(name, model)
    config = OrchestrateConfig(
        agents={name: agent(name, chain) for name, chain in chains.items()},
        endpoints=dict(BUILTIN_ENDPOINTS),
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    router = Router(config, Ledger(None), events=bus, run_id="run-1")
    # These runs are about planning: tasks that name their files and checks are planned too.
    options = {"always_plan": True, **options}
    engine = Engine(
        config,
        router,
        repo,
        events=bus,
        options=EngineOptions(check_timeout=60, **options),
        approve=TRUSTED,
    )
    return engine, events


def step(
    sid: str, kind: str, files: list[str], checks: list[str], deps: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "id": sid,
        "title": f"Step {sid}",
        "kind": kind,
        "spec": f"Carry out step {sid}.",
        "read_files": [],
        "edit_files": files,
        "depends_on": list(deps),
        "checks": checks,
    }


PLAN = {
    "summary": "Add sub, test it, document it.",
    "subtasks": [
        step("sub", "code", ["calc.py"], [f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"]),
        step("tests", "test", ["tests/test_calc.py"], [PYTEST], deps=["sub"]),
        step("readme", "format", ["README.md"], ["grep -q Usage README.md"]),
    ],
}
FOLLOW_UP = step("docstring", "code", ["calc.py"], [f"{PY} -c 'import calc; assert calc.__doc__'"])
CHANGES = {
    "verdict": "request_changes",
    "summary": "calc.py lacks a module docstring.",
    "comments": [{"path": "calc.py", "line": 1, "severity": "warning", "body": "add a docstring"}],
    "follow_ups": [FOLLOW_UP],
}
APPROVE = {"verdict": "approve", "summary": "Looks good.", "comments": [], "follow_ups": []}
GIVE_UP = {"decision": "give_up", "reason": "It cannot be done as asked."}
"""The planner's answer about a subtask every worker model failed, when a test wants it ended."""
CHAINS = {
    "planner": ["scripted:planner"],
    "reviewer": ["scripted:reviewer"],
    "coder": ["scripted:coder"],
    "tester": ["scripted:tester-a", "scripted:tester-b"],
    "formatter": ["scripted:formatter"],
}
TASK = TaskSpec(
    title="Add subtraction",
    instructions="calc needs sub(a, b), a test, and usage docs.",
    files=["calc.py"],
    checks=[PYTEST],
    line=3,
)


def index(events: list[Event], predicate: Any) -> int:
    return next(i for i, event in enumerate(events) if predicate(event))


async def test_full_run_with_fix_round_escalation_and_one_review_round(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(PLAN)], name="planner")
    models["coder"] = ScriptedModel(
        [whole("calc.py", CALC_SUB_BAD), whole("calc.py", CALC_SUB), whole("calc.py", CALC_DOC)],
        name="coder",
    )
    models["tester-a"] = ScriptedModel([whole("tests/test_calc.py", TEST_BAD)] * 3, name="tester-a")
    models["tester-b"] = ScriptedModel([whole("tests/test_calc.py", TEST_GOOD)], name="tester-b")
    models["formatter"] = ScriptedModel([whole("README.md", README)], name="formatter")
    models["reviewer"] = ScriptedModel([json.dumps(CHANGES), json.dumps(APPROVE)], name="reviewer")
    (repo / "calc.py").write_text("# the user's unfinished edit\n")
    (repo / "scratch.txt").write_text("mine\n")
    user_status = git(repo, "status", "--porcelain")
    engine, events = make_engine(repo, models, CHAINS)

    result = await engine.run(TASK, "run-1")

    assert result.status == "approved", result.detail
    for model in models.values():
        model.assert_done()
    # The user's checkout: same HEAD, same dirty file, same untracked file.
    assert git(repo, "status", "--porcelain") == user_status
    assert (repo / "calc.py").read_text() == "# the user's unfinished edit\n"
    assert git(repo, "rev-parse", "HEAD").strip() == result.base_sha
    # The coder saw the failing check's output in its second round.
    assert "AssertionError" in models["coder"].requests[1].messages[-1].content
    # One commit per subtask, with trailers naming the model whose edit passed.
    worktree = Path(result.worktree)
    commits = Workspace.open(repo, "run-1").commits()
    trailers = {c.trailers["Orchestrate-Subtask"]: c.trailers["Orchestrate-Model"] for c in commits}
    assert {c.title for c in commits} == {"Step sub", "Step tests", "Step readme", "Step docstring"}
    assert all(c.trailers["Orchestrate-Run"] == "run-1" for c in commits)
    agents = {c.trailers["Orchestrate-Subtask"]: c.trailers["Orchestrate-Agent"] for c in commits}
    assert agents == {
        "sub": "coder",
        "tests": "tester",
        "readme": "formatter",
        "docstring": "coder",
    }
    assert trailers == {
        "sub": "scripted:coder",
        "tests": "scripted:tester-b",
        "readme": "scripted:formatter",
        "docstring": "scripted:coder",
    }
    assert len(result.commits) == 4
    assert set(result.commits) == {r.commit for r in result.subtasks}
    assert git(worktree, "rev-parse", "HEAD").strip() == result.commits[-1]
    assert (worktree / "calc.py").read_text() == CALC_DOC
    assert result.branch == "orchestrate/run-1"
    by_id = {r.id: r for r in result.subtasks}
    assert by_id["tests"].escalations == ["scripted:tester-a -> scripted:tester-b"]
    assert by_id["sub"].rounds == 2
    assert [c.ok for c in result.task_checks] == [True]
    # The reviewer saw the real diff, delimited, and the task checks; the second review saw the fix.
    first_review = models["reviewer"].requests[0].messages[0].content
    assert "<<<UNTRUSTED diff " in first_review and "<<<END UNTRUSTED diff " in first_review
    assert "+def sub(a, b):" in first_review and "+    assert sub(5, 3) == 2" in first_review
    assert f"`{PYTEST}`: passed" in first_review
    assert '+"""Tiny calculator."""' in models["reviewer"].requests[1].messages[0].content
    assert result.review is not None and result.review.verdict == "approve"
    assert result.local_tokens > 0 and result.cloud_usd == 0.0

    # Events in a sensible order: first what the run says of its checks, then the plan.
    assert isinstance(events[0], RunNotice) and events[0].text.startswith("checks: ")
    chatty = ("attempt", "cost", "run_notice")
    assert isinstance(events[index(events, lambda e: not e.type.startswith(chatty))], PlanReady)
    assert isinstance(events[-1], RunFinished) and events[-1].ok
    for sid in ("sub", "tests", "readme", "docstring"):
        queued = index(
            events,
            lambda e, s=sid: (
                isinstance(e, SubtaskStatus) and e.subtask_id == s and e.status == "queued"
            ),
        )
        started = index(
            events, lambda e, s=sid: isinstance(e, SubtaskStarted) and e.subtask_id == s
        )
        finished = index(
            events, lambda e, s=sid: isinstance(e, SubtaskFinished) and e.subtask_id == s
        )
        assert queued < started < finished
    sub_done = index(events, lambda e: isinstance(e, SubtaskFinished) and e.subtask_id == "sub")
    tests_started = index(
        events, lambda e: isinstance(e, SubtaskStarted) and e.subtask_id == "tests"
    )
    assert sub_done < tests_started
    assert any(isinstance(e, Escalated) and e.subtask_id == "tests" for e in events)
    verdicts = [(i, e.verdict) for i, e in enumerate(events) if isinstance(e, ReviewVerdict)]
    assert [v for _, v in verdicts] == ["request_changes", "approve"]
    follow_up_started = index(
        events, lambda e: isinstance(e, SubtaskStarted) and e.subtask_id == "docstring"
    )
    assert verdicts[0][0] < follow_up_started < verdicts[1][0]
    assert all(e.run_id == "run-1" for e in events)


class BarrierModel(ScriptedModel):
    """Answers only once every party has called: a sequential engine would time out here."""

    def __init__(self, steps: Sequence[Step], barrier: asyncio.Barrier, name: str) -> None:
        super().__init__(steps, name=name)
        self.barrier = barrier

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        await asyncio.wait_for(self.barrier.wait(), timeout=10)
        return await super().request(request, on_token)


async def test_independent_subtasks_run_concurrently(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    plan = {
        "summary": "two independent edits",
        "subtasks": [
            step("sub", "code", ["calc.py"], []),
            step("readme", "format", ["README.md"], []),
        ],
    }
    barrier = asyncio.Barrier(2)
    models["planner"] = ScriptedModel([json.dumps(plan)], name="planner")
    models["coder"] = BarrierModel([whole("calc.py", CALC_SUB)], barrier, "coder")
    models["formatter"] = BarrierModel([whole("README.md", README)], barrier, "formatter")
    models["tester-a"] = ScriptedModel([], name="tester-a")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)

    result = await engine.run(TASK.model_copy(update={"checks": []}), "run-2")

    assert [r.status for r in result.subtasks] == ["done", "done"]
    # Approved by the reviewer, but the task has no checks: not approved on its word alone.
    assert result.status == "unchecked"


async def test_overlapping_files_are_not_edited_at_once(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    plan = {
        "summary": "two edits of one file",
        "subtasks": [step("one", "code", ["calc.py"], []), step("two", "code", ["calc.py"], [])],
    }
    models["planner"] = ScriptedModel([json.dumps(plan)], name="planner")
    models["coder"] = ScriptedModel(
        [whole("calc.py", CALC_SUB), whole("calc.py", CALC_DOC)], name="coder"
    )
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)

    result = await engine.run(TASK.model_copy(update={"checks": []}), "run-3")

    assert [r.id for r in result.subtasks] == ["one", "two"]
    # The second worker was shown the first one's committed edit.
    assert "def sub(a, b):" in models["coder"].requests[1].messages[0].content


async def test_failed_dependency_skips_dependents_and_review_still_runs(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([json.dumps(PLAN), json.dumps(GIVE_UP)], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB_BAD)] * 3, name="coder")
    models["formatter"] = ScriptedModel([whole("README.md", README)], name="formatter")
    models["reviewer"] = ScriptedModel([json.dumps(CHANGES | {"follow_ups": []})], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS)

    result = await engine.run(TASK, "run-4")

    by_id = {r.id: r for r in result.subtasks}
    assert by_id["sub"].status == "failed" and by_id["sub"].failure == "task"
    assert by_id["tests"].detail == "skipped: it depends on sub, which failed"
    assert by_id["readme"].status == "done"
    assert result.status == "changes_requested"
    assert "sub: failed" in models["reviewer"].requests[0].messages[0].content
    assert isinstance(events[-1], RunFinished) and not events[-1].ok


async def test_unreachable_planner_fails_the_run_cleanly(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "connection refused"))
    models["planner"] = ScriptedModel([down], name="planner")
    engine, events = make_engine(repo, models, CHAINS)

    # Without named files there is no plan to fall back to (see the as-written test below).
    result = await engine.run(TASK.model_copy(update={"files": []}), "run-5")

    assert result.status == "failed"
    assert result.detail.startswith("planning failed: agent 'planner': no model could answer")
    assert result.plan is None and result.commits == []
    assert isinstance(events[-1], RunFinished) and not events[-1].ok


async def test_workers_that_cannot_reach_a_model_fail_the_run_without_review(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    plan = {"summary": "one edit", "subtasks": [step("sub", "code", ["calc.py"], [])]}
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "connection refused"))
    models["planner"] = ScriptedModel([json.dumps(plan)], name="planner")
    models["coder"] = ScriptedModel([down], name="coder")
    models["reviewer"] = ScriptedModel([], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)

    result = await engine.run(TASK, "run-6")

    assert result.status == "failed"
    assert "could not reach a model" in result.detail
    assert result.subtasks[0].failure == "infrastructure"
    assert models["reviewer"].requests == []


async def test_a_task_naming_its_files_runs_as_written_when_no_planner_can_plan(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    # A tiny local planner that rambles: invalid twice (answer and repair), and no other model.
    models["planner"] = ScriptedModel(["a plan, roughly", "still not JSON"], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    models["idle"] = ScriptedModel([], name="idle")
    chains = {
        "planner": ["scripted:planner"],
        "coder": ["scripted:coder"],
        "tester": ["scripted:idle"],
        "formatter": ["scripted:idle"],
        "reviewer": ["scripted:reviewer"],
    }
    engine, events = make_engine(repo, models, chains)
    check = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
    task = TaskSpec(
        title="Add sub",
        instructions="Add sub(a, b) to calc.py.",
        files=["calc.py"],
        checks=[check],
        line=1,
    )

    result = await engine.run(task, "as-written")

    assert result.status == "approved", result.detail
    assert result.plan is not None and result.plan.summary.startswith("The task as written")
    [only] = result.plan.subtasks
    assert (only.spec, only.edit_files, only.checks) == (task.instructions, ["calc.py"], [check])
    assert any(
        isinstance(e, SubtaskStatus) and "running the task as written" in e.detail for e in events
    )
    assert "Add sub(a, b) to calc.py." in models["coder"].requests[0].messages[0].content


async def test_without_named_files_a_failed_plan_fails_the_run(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel(["nope", "nope"], name="planner")
    models["idle"] = ScriptedModel([], name="idle")
    chains = {name: ["scripted:idle"] for name in ("coder", "tester", "formatter", "reviewer")}
    engine, _ = make_engine(repo, models, {"planner": ["scripted:planner"], **chains})
    result = await engine.run(TaskSpec(title="Vague", instructions="Improve it.", line=1), "vague")
    assert result.status == "failed"
    assert result.detail.startswith("planning failed")


async def test_a_run_sent_back_builds_on_the_earlier_branch_and_is_reviewed_whole(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    only_sub = {"summary": "Add sub.", "subtasks": [PLAN["subtasks"][0]]}
    docstring = {"summary": "Add a docstring.", "subtasks": [FOLLOW_UP]}
    models["planner"] = ScriptedModel([json.dumps(only_sub), json.dumps(docstring)], name="planner")
    models["coder"] = ScriptedModel(
        [whole("calc.py", CALC_SUB), whole("calc.py", CALC_DOC)], name="coder"
    )
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)] * 2, name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)
    first = await engine.run(TASK, "run-1")
    assert first.status == "approved", first.detail

    again = TASK.model_copy(update={"instructions": "Also give calc a module docstring."})
    second = await engine.run(again, "run-2", continues="run-1")

    assert second.status == "approved", second.detail
    # The planner and the coder saw the earlier run's work, not the user's HEAD.
    assert "sub" in models["planner"].requests[1].messages[-1].content
    assert "def sub(a, b)" in models["coder"].requests[1].messages[-1].content
    # Both runs' commits are on the new branch; its diff (and so its review) covers both.
    commits = Workspace.open(repo, "run-2").commits()
    assert [c.trailers["Orchestrate-Run"] for c in commits] == ["run-1", "run-2"]
    assert second.base_sha == first.base_sha
    reviewed = models["reviewer"].requests[1].messages[-1].content
    assert "+def sub(a, b):" in reviewed and '+"""Tiny calculator."""' in reviewed
    assert git(repo, "show", "orchestrate/run-2:calc.py") == CALC_DOC
    # The earlier branch is left as it was.
    assert git(repo, "show", "orchestrate/run-1:calc.py") == CALC_SUB


async def test_continuing_a_run_without_a_branch_is_one_clear_error(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    engine, _ = make_engine(repo, models, CHAINS)
    with pytest.raises(RepoError, match="run gone has no branch to build on"):
        await engine.run(TASK, "run-2", continues="gone")


async def test_edit_replies_are_counted_in_the_ledger_and_a_later_engine_starts_from_them(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    only_sub = {"summary": "Add sub.", "subtasks": [PLAN["subtasks"][0]]}
    models["planner"] = ScriptedModel([json.dumps(only_sub)], name="planner")
    models["coder"] = ScriptedModel(["no edit here", whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)

    assert (await engine.run(TASK, "run-1")).status == "approved"

    ledger = engine.router.recorder.ledger
    counts = [(r.model, r.edit_format, r.well_formed, r.malformed) for r in ledger.edit_replies()]
    assert counts == [("scripted:coder", "whole", 1, 1)]
    later = Engine(engine.config, engine.router, repo, events=engine.events, approve=TRUSTED)
    assert later.format_stats.count("scripted:coder", "whole").malformed == 1


def _one_step_plan(check: str) -> str:
    return json.dumps(
        {"summary": "add sub", "subtasks": [step("sub", "code", ["calc.py"], [check])]}
    )


async def test_the_reviewers_approval_does_not_approve_a_run_whose_task_checks_fail(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([_one_step_plan(f"{PY} -c 'import calc'")], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB_BAD)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS)
    task = TASK.model_copy(
        update={"checks": [f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"]}
    )

    result = await engine.run(task, "checks-fail")

    assert result.review is not None and result.review.verdict == "approve"
    assert [c.ok for c in result.task_checks] == [False]
    assert result.status == "changes_requested"
    assert "task checks FAIL" in result.detail
    assert isinstance(events[-1], RunFinished) and not events[-1].ok


async def test_a_task_with_no_checks_is_approved_on_the_reviewers_word_only_when_allowed(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    unchecked = json.dumps(
        {"summary": "add sub", "subtasks": [step("sub", "code", ["calc.py"], [])]}
    )
    for allowed, expected in ((False, "unchecked"), (True, "approved")):
        models["planner"] = ScriptedModel([unchecked], name="planner")
        models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
        models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
        engine, events = make_engine(repo, models, CHAINS, accept_unchecked=allowed)

        result = await engine.run(TASK.model_copy(update={"checks": []}), f"unchecked-{allowed}")

        assert result.task_checks == [] and result.subtasks[0].checks == []
        assert result.subtasks[0].detail == "no checks ran"
        assert result.status == expected
        assert "no checks ran" in result.detail and "checks pass" not in result.detail
        assert isinstance(events[-1], RunFinished) and events[-1].ok is allowed


async def test_without_task_checks_every_done_subtask_must_have_passed_its_own(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["planner"] = ScriptedModel([_one_step_plan(f"{PY} -c 'import calc'")], name="planner")
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, _ = make_engine(repo, models, CHAINS)

    result = await engine.run(TASK.model_copy(update={"checks": []}), "subtask-checked")

    assert result.status == "approved"
    assert "every subtask's own checks passed" in result.detail


async def test_the_planner_sees_a_large_named_file_around_what_the_task_names_and_it_is_reported(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    text = big_module()  # 5,590 lines, ~108K characters
    (repo / "pipeline.py").write_text(text)
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pipeline")
    plan = {"summary": "note it", "subtasks": [step("doc", "format", ["README.md"], [])]}
    models["planner"] = ScriptedModel([json.dumps(plan)], name="planner")
    models["formatter"] = ScriptedModel([whole("README.md", README)], name="formatter")
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)], name="reviewer")
    engine, events = make_engine(repo, models, CHAINS, accept_unchecked=True)
    task = TaskSpec(
        title="Speed up the pipeline",
        instructions="func_100 and func_250 in pipeline.py repeat work; document why in README.",
        files=["pipeline.py"],
        line=1,
    )

    result = await engine.run(task, "big-plan")

    seen = models["planner"].requests[0].messages[-1].content
    assert function(100).rstrip("\n") in seen and function(250).rstrip("\n") in seen
    assert "def func_101" not in seen.replace("⋯   def func_101", "")
    assert "⋯ lines" in seen and len(seen) < len(text)
    notes = [e.what for e in events if isinstance(e, ContentOmitted) and e.agent == "planner"]
    assert (
        notes and notes[0].startswith("pipeline.py: ") and "around func_100, func_250" in notes[0]
    )
    assert f"planner: {notes[0]}" in result.omissions
    report = render_markdown(
        batch_report("plan.md", [run_report(result, [], PRICER)], [], PRICER, False)
    )
    assert f"- not shown to a model: planner: {notes[0]}" in report


async def test_with_no_model_fit_to_plan_or_review_the_task_runs_as_written_and_checks_decide(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    # The packaged model is the planner's and the reviewer's only model, and it is unfit for
    # both (model facts): it is never asked, and nothing fails for want of a review.
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["idle"] = ScriptedModel([], name="idle")
    unfit = ["llamacpp:gemma3-270m"]
    chains = {
        "planner": unfit,
        "reviewer": unfit,
        "coder": ["scripted:coder"],
        "tester": ["scripted:idle"],
        "formatter": ["scripted:idle"],
    }
    engine, _ = make_engine(repo, models, chains)
    check = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
    task = TaskSpec(
        title="Add sub", instructions="Add sub(a, b).", files=["calc.py"], checks=[check], line=1
    )

    passed = await engine.run(task, "unreviewed")

    assert passed.status == "approved", passed.detail
    assert passed.review is None
    assert "cannot review" in passed.not_reviewed
    assert passed.detail.endswith("reviewer: not reviewed")
    report = run_report(passed, [], Pricer.packaged())
    assert report.review_verdict == "not reviewed"
    attempts = engine.router.recorder.ledger.attempts()
    assert {(a.model, a.outcome) for a in attempts if a.agent in ("planner", "reviewer")} == {
        ("llamacpp:gemma3-270m", "skipped")
    }


async def test_unreviewed_work_whose_checks_fail_is_not_approved(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB_BAD)] * 3, name="coder")
    models["idle"] = ScriptedModel([], name="idle")
    unfit = ["llamacpp:gemma3-270m"]
    chains = {"planner": unfit, "reviewer": unfit, "coder": ["scripted:coder"]}
    chains |= {"tester": ["scripted:idle"], "formatter": ["scripted:idle"]}
    engine, _ = make_engine(repo, models, chains)
    check = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
    task = TaskSpec(title="Sub", instructions="Add sub.", files=["calc.py"], checks=[check], line=1)

    result = await engine.run(task, "unreviewed-bad")

    assert result.status == "changes_requested"
    assert result.not_reviewed


async def test_a_busy_reviewer_is_an_outage_not_a_missing_reviewer(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    busy = ScriptedFailure(Failure(FailureKind.RETRY, "overloaded", "overloaded"))
    models["coder"] = ScriptedModel([whole("calc.py", CALC_SUB)], name="coder")
    models["reviewer"] = ScriptedModel([busy], name="reviewer")
    models["idle"] = ScriptedModel([], name="idle")
    chains = {"planner": ["llamacpp:gemma3-270m"], "reviewer": ["scripted:reviewer"]}
    chains |= {"coder": ["scripted:coder"], "tester": ["scripted:idle"]}
    chains |= {"formatter": ["scripted:idle"]}
    engine, _ = make_engine(repo, models, chains)
    check = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
    task = TaskSpec(title="Sub", instructions="Add sub.", files=["calc.py"], checks=[check], line=1)

    result = await engine.run(task, "busy-reviewer")

    assert result.status == "failed"
    assert result.not_reviewed == ""
    assert result.detail.startswith("review failed")
