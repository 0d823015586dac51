"""Plans and reviews as data: semantic rules are validation errors, so the router repairs them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.engine.engine import Engine
from orchestrate.engine.plan import Plan, Subtask, topological_order
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.review import Review
from orchestrate.engine.scheduler import prerequisites
from orchestrate.events import Event, EventBus, PlanReady
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.routing.router import Router


def subtask(
    sid: str, *, deps: tuple[str, ...] = (), files: tuple[str, ...] = ("a.py",)
) -> dict[str, Any]:
    return {
        "id": sid,
        "title": f"do {sid}",
        "kind": "code",
        "spec": f"Implement {sid}.",
        "edit_files": list(files),
        "depends_on": list(deps),
        "checks": ["python -m pytest -q"],
    }


def plan_json(*subtasks: dict[str, Any]) -> str:
    return json.dumps({"summary": "s", "subtasks": list(subtasks)})


def test_valid_plan_normalises_paths_and_maps_kinds_to_agents() -> None:
    data = subtask("one", files=("./src\\pkg/a.py", "src/pkg/a.py"))
    data["read_files"] = ["docs//notes.md"]
    data["kind"] = "test"
    plan = Plan.model_validate_json(plan_json(data))
    step = plan.get("one")
    assert step.edit_files == ["src/pkg/a.py"]
    assert step.read_files == ["docs/notes.md"]
    assert step.agent == "tester"


@pytest.mark.parametrize(
    ("subtasks", "message"),
    [
        ((subtask("a"), subtask("a")), "unique; repeated: a"),
        ((subtask("a", deps=("ghost",)),), "unknown id(s) ghost"),
        ((subtask("a", deps=("b",)), subtask("b", deps=("a",))), "cycle among: a, b"),
        ((subtask("a", deps=("a",)),), "cycle among: a"),
        ((subtask("a", files=("../outside.py",)),), "unsafe path '../outside.py'"),
        ((subtask("a", files=("/etc/passwd",)),), "absolute paths are not allowed"),
        ((subtask("a", files=(".git/config",)),), "under .git"),
        ((subtask("a", files=()),), "at least 1 item"),
    ],
)
def test_invalid_plans_fail_validation_with_a_reason(
    subtasks: tuple[dict[str, Any], ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Plan.model_validate_json(plan_json(*subtasks))
    assert message in str(caught.value)


def test_unknown_kind_and_bad_id_are_refused() -> None:
    bad_kind = subtask("a") | {"kind": "deploy"}
    with pytest.raises(ValidationError, match="kind"):
        Plan.model_validate_json(plan_json(bad_kind))
    with pytest.raises(ValidationError, match="id"):
        Plan.model_validate_json(plan_json(subtask("Bad Id!")))


def test_topological_order_puts_dependencies_first_and_keeps_plan_order() -> None:
    plan = Plan.model_validate_json(
        plan_json(subtask("c", deps=("b",)), subtask("a"), subtask("b", deps=("a",)), subtask("d"))
    )
    assert [s.id for s in topological_order(plan.subtasks)] == ["a", "b", "c", "d"]


def test_prerequisites_add_earlier_editors_of_the_same_file() -> None:
    order = [
        Subtask.model_validate(subtask("x", files=("a.py",))),
        Subtask.model_validate(subtask("y", files=("b.py",))),
        Subtask.model_validate(subtask("z", files=("b.py", "a.py"), deps=("y",))),
    ]
    assert prerequisites(order) == {"x": set(), "y": set(), "z": {"x", "y"}}


def test_review_follow_ups_may_depend_on_plan_ids_but_not_on_each_other_in_a_cycle() -> None:
    ok = {
        "verdict": "request_changes",
        "summary": "missing edge case",
        "comments": [{"path": "a.py", "line": 3, "severity": "error", "body": "empty input"}],
        "follow_ups": [subtask("fix", deps=("one",))],
    }
    review = Review.model_validate(ok)
    assert review.follow_ups[0].depends_on == ["one"]
    looped = ok | {"follow_ups": [subtask("p", deps=("q",)), subtask("q", deps=("p",))]}
    with pytest.raises(ValidationError, match="cycle"):
        Review.model_validate(looped)
    with pytest.raises(ValidationError, match="severity"):
        Review.model_validate(
            ok | {"comments": [{"path": "a.py", "severity": "fatal", "body": "x"}]}
        )


# --- the planner through the router: semantic errors trigger the repair round -------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


@pytest.fixture
def planner_models() -> Iterator[dict[str, ScriptedModel]]:
    models: dict[str, ScriptedModel] = {}
    yield models
    for name in models:
        unregister_scripted(name)


def engine_for(models: dict[str, ScriptedModel], repo: Path, events: EventBus) -> Engine:
    for name, model in models.items():
        register_scripted(name, model)
    planner = AgentConfig(
        name="planner",
        model="scripted:planner-a",
        fallbacks=["scripted:planner-b"],
        system_prompt="You plan.",
        retries=0,
    )
    config = OrchestrateConfig(
        agents={"planner": planner},
        endpoints=dict(BUILTIN_ENDPOINTS),
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    return Engine(config, Router(config, Ledger(None), events=events), repo, events=events)


TASK = TaskSpec(title="Add sub", instructions="Add a sub function.", files=["src/calc.py"], line=1)


@pytest.mark.parametrize(
    ("invalid", "reason"),
    [
        (plan_json(subtask("a", deps=("b",)), subtask("b", deps=("a",))), "cycle"),
        (plan_json(subtask("a", deps=("nope",))), "unknown id"),
        (plan_json(subtask("a"), subtask("a")), "unique"),
        (plan_json(subtask("a", files=("../x.py",))), "unsafe path"),
    ],
)
async def test_invalid_plan_is_repaired_once_with_the_validation_error(
    repo: Path, planner_models: dict[str, ScriptedModel], invalid: str, reason: str
) -> None:
    valid = plan_json(subtask("a", files=("src/calc.py",)))
    planner_models["planner-a"] = ScriptedModel([invalid, valid], name="planner-a")
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)

    plan = await engine_for(planner_models, repo, bus).plan(TASK)

    assert [s.id for s in plan.subtasks] == ["a"]
    first, repair = planner_models["planner-a"].requests
    # The first request carries the repo map (a prefix every task shares), then the task and
    # the named file.
    assert "## Repository map" in first.messages[0].content
    assert "Add a sub function." in first.messages[1].content
    assert "def add(a, b):" in first.messages[1].content
    assert first.output_schema is not None
    assert reason in repair.messages[-1].content
    assert repair.messages[-2].content == invalid
    ready = [e for e in events if isinstance(e, PlanReady)]
    assert [e.subtask_ids for e in ready] == [["a"]]


async def test_plan_still_invalid_after_repair_moves_to_the_next_model(
    repo: Path, planner_models: dict[str, ScriptedModel]
) -> None:
    cyclic = plan_json(subtask("a", deps=("a",)))
    planner_models["planner-a"] = ScriptedModel([cyclic, cyclic], name="planner-a")
    planner_models["planner-b"] = ScriptedModel(
        [plan_json(subtask("b", files=("src/calc.py",)))], name="planner-b"
    )
    plan = await engine_for(planner_models, repo, EventBus()).plan(TASK)
    assert [s.id for s in plan.subtasks] == ["b"]
    assert len(planner_models["planner-b"].requests) == 1
