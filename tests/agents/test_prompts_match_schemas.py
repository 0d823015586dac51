"""Every agent's prompt names only fields its answer schema has (and values it allows).

A prompt that tells a model to answer `files_to_read` while the schema wants `read_files`
costs a failed answer and a repair round on every call, or worse, silently empty fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from orchestrate.config.loader import load_config
from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.prompts import render_planner, render_planner_context, render_reviewer
from orchestrate.engine.quick_review import QuickReview
from orchestrate.engine.replan import ReplanCase, ReplanRules, render_replan
from orchestrate.engine.replan_answer import Replan
from orchestrate.engine.result import Attempt
from orchestrate.engine.review import Review
from orchestrate.review.deep import DeepRemarks
from orchestrate.review.merge import SummaryAnswer
from orchestrate.review.routine import FileRemarks
from orchestrate.review.triage import TriageAnswer

SCHEMAS: dict[str, type[BaseModel]] = {
    "planner": Plan,
    "reviewer": Review,
    "quick-reviewer": QuickReview,
    "triage": TriageAnswer,
    "routine-reviewer": FileRemarks,
    "deep-reviewer": DeepRemarks,
    "review-formatter": SummaryAnswer,
}
"""Each agent that answers in JSON, and the schema the router validates its answer against."""
ALSO: dict[str, type[BaseModel]] = {"planner": Replan}
"""A second schema an agent answers in (the planner's decision about a failed subtask)."""
EDIT_FORMAT_AGENTS = {"coder", "tester", "formatter"}
"""Agents that answer in an edit format (files or SEARCH/REPLACE blocks), with no JSON fields."""

_BACKTICKED = re.compile(r"`([a-z_][a-z0-9_]*)`")
_LIST_LABEL = re.compile(r"^\s*-\s+`?([a-z_][a-z0-9_]*)`?:", re.MULTILINE)


def named_words(text: str) -> set[str]:
    """Words a prompt presents as names: `in_backticks`, and `- label:` list items."""
    return set(_BACKTICKED.findall(text)) | set(_LIST_LABEL.findall(text))


def _walk(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        yield from node.get("properties", {})
        for key in ("enum", "const"):
            values = node.get(key)
            yield from (str(v) for v in (values if isinstance(values, list) else [values]) if v)
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def vocabulary(schema: type[BaseModel]) -> set[str]:
    """Every field name and every allowed literal value in the schema, nested ones included."""
    return set(_walk(schema.model_json_schema()))


def test_every_agent_is_known_to_answer_in_a_schema_or_an_edit_format() -> None:
    agents = set(load_config().agents)
    assert agents == set(SCHEMAS) | EDIT_FORMAT_AGENTS


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_system_prompts_name_only_schema_fields(name: str) -> None:
    prompt = load_config().agents[name].system_prompt
    known = vocabulary(SCHEMAS[name]) | (vocabulary(ALSO[name]) if name in ALSO else set())
    unknown = named_words(prompt) - known
    assert not unknown, f"agents/prompts/{name}.md names {sorted(unknown)}, not in the schema"


@pytest.mark.parametrize("name", sorted(EDIT_FORMAT_AGENTS))
def test_edit_format_prompts_name_no_json_fields(name: str) -> None:
    prompt = load_config().agents[name].system_prompt
    assert not named_words(prompt), f"agents/prompts/{name}.md names JSON fields"


def test_the_planner_and_reviewer_messages_name_only_schema_fields() -> None:
    task = TaskSpec(
        title="t", instructions="do it", files=["a.py"], checks=["python -m pytest -q"], line=1
    )
    plan = Plan.model_validate(
        {
            "subtasks": [
                {"id": "a", "title": "t", "kind": "code", "spec": "s", "edit_files": ["a.py"]}
            ]
        }
    )
    planner = render_planner_context("a.py") + render_planner(task, {"a.py": "x = 1\n"})
    reviewer = render_reviewer(task, plan, diff="", results=[], task_checks=[], diff_limit=100)
    assert named_words(planner) - vocabulary(Plan) == set()
    assert named_words(reviewer) - vocabulary(Review) == set()
    rules = ReplanRules(models=("ollama:big",), taken_ids=frozenset({"a"}))
    case = ReplanCase(task, plan.subtasks[0], "it failed", [Attempt("m", "x")], "", rules)
    assert named_words(render_replan(case)) - vocabulary(Replan) == set()


def test_a_wrong_field_name_is_caught() -> None:
    assert named_words("- `files_to_read`: files the worker needs") - vocabulary(Plan) == {
        "files_to_read"
    }
