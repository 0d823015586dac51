"""A run whose whole change is proven formatting (format subtasks, same syntax tree) is not sent
to the cloud reviewer: it says so ("not reviewed: format-only, code unchanged") and the task's
checks decide. Anything short of that proof is reviewed as before."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrate.engine.engine import Engine
from orchestrate.engine.format_only import FORMAT_ONLY, proven_format_only, same_code
from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.report import run_report
from orchestrate.events import Event, RunNotice
from orchestrate.ledger.pricing import Pricer
from orchestrate.models.scripted import ScriptedModel

from . import test_engine_scripted as scripted
from .test_engine_scripted import APPROVE, PY, git, make_engine, step, whole

repo = scripted.repo  # the same fixtures: a tiny calc repo, scripted models registered
models = scripted.models

MESSY = "def add(a,b):\n  return a+b\n"
TIDY = "def add(a, b):\n    return a + b\n"
NOT_SAME = "def add(a, b):\n    return b + a\n"
CHECK = f"{PY} -c 'import calc; assert calc.add(1, 2) == 3'"
TASK = TaskSpec(
    title="Tidy calc.py",
    instructions="PEP 8 for calc.py.",
    files=["calc.py"],
    checks=[CHECK],
    line=1,
)


def _plan(kind: str) -> str:
    return json.dumps({"summary": "Tidy.", "subtasks": [step("tidy", kind, ["calc.py"], [CHECK])]})


def _engine(
    repo: Path, models: dict[str, ScriptedModel], kind: str, new: str, reviews: int
) -> tuple[Engine, list[Event]]:
    (repo / "calc.py").write_text(MESSY)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "messy")
    models["planner"] = ScriptedModel([_plan(kind)], name="planner")
    worker = ScriptedModel([whole("calc.py", new)], name="worker")
    models["coder"] = models["formatter"] = worker
    models["reviewer"] = ScriptedModel([json.dumps(APPROVE)] * reviews, name="reviewer")
    chains = {role: [f"scripted:{role}"] for role in ("planner", "reviewer", "coder", "formatter")}
    chains["tester"] = ["scripted:coder"]
    return make_engine(repo, models, chains)


async def test_a_proven_format_only_run_is_not_reviewed_and_says_why(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    engine, events = _engine(repo, models, "format", TIDY, reviews=0)

    result = await engine.run(TASK, "tidy")

    assert result.status == "approved", result.detail
    assert models["reviewer"].requests == []  # no cloud review was paid for
    assert result.not_reviewed == FORMAT_ONLY
    assert result.detail.endswith("reviewer: not reviewed")
    notices = [e.text for e in events if isinstance(e, RunNotice)]
    assert "not reviewed: format-only, code unchanged; the task's checks decide" in notices
    report = run_report(result, [], Pricer.packaged())
    assert report.review_verdict == "not reviewed" and report.review_summary == FORMAT_ONLY


async def test_a_format_subtask_that_changes_the_code_is_reviewed(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    engine, _ = _engine(repo, models, "format", NOT_SAME, reviews=1)

    result = await engine.run(TASK, "not-same")

    assert len(models["reviewer"].requests) == 1
    assert result.not_reviewed == "" and result.status == "approved"


async def test_a_code_subtask_is_reviewed_even_when_only_whitespace_changed(
    repo: Path, models: dict[str, ScriptedModel]
) -> None:
    engine, _ = _engine(repo, models, "code", TIDY, reviews=1)

    result = await engine.run(TASK, "code-kind")

    assert len(models["reviewer"].requests) == 1 and result.not_reviewed == ""


def test_same_code_is_the_syntax_tree_not_the_text() -> None:
    assert same_code(MESSY.encode(), TIDY.encode())
    assert same_code(b"x = 1  # one\n", b"x = (1)\n")
    assert not same_code(b"import os\nx = 1\n", b"x = 1\n")  # an import can have effects
    assert not same_code(b'def f():\n    "doc"\n', b'def f():\n    "other"\n')  # __doc__
    assert not same_code(b"x = 1\n", b"x = (\n")  # what does not parse proves nothing


def test_only_python_files_that_existed_before_count() -> None:
    plan = Plan.model_validate(json.loads(_plan("format")))
    tidy = (MESSY.encode(), TIDY.encode())

    assert proven_format_only(plan, [], {"calc.py": tidy})
    assert not proven_format_only(plan, [], {})
    assert not proven_format_only(plan, [], {"calc.py": tidy, "README.md": (b"a", b"b")})
    assert not proven_format_only(plan, [], {"new.py": (None, TIDY.encode())})
