"""The subtask editor gives back exactly what it was given, and a send-back carries the review."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from textual.containers import VerticalScroll
from textual.widgets import TextArea

from orchestrate.engine.plan import Plan
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.review import ReviewScreen
from orchestrate.tui.screens.subtask_form import SubtaskForm, items_from, lines_text
from orchestrate.tui.widgets.plan_tree import PlanTree

from .tui_support import (
    APPROVE,
    CALC_SUB,
    PLAN,
    PY,
    README,
    MakeApp,
    Models,
    happy_models,
    plan_task,
    run_task,
    until,
    whole,
)

HEREDOC = f"{PY} - <<'EOF'\nimport calc\n\n  # indented; with a blank line above\nassert calc.add(1, 2) == 3\nEOF"
TRICKY = {
    "summary": "Sub; then docs — «naïve» ✓",
    "subtasks": [
        {
            "id": "sub",
            "title": "Add sub(a, b); keep add",
            "kind": "code",
            "spec": "Write sub(a, b).\n\n- return a - b; no rounding\n- ünïcödé ✓ \"quoted\" 'too'\n",
            "read_files": ["README.md", "docs/über notes.md"],
            "edit_files": ["calc.py"],
            "depends_on": [],
            "checks": [
                f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'",
                'grep -q "naïve → ü; \\"x\\"" README.md || true',
                HEREDOC,
            ],
        },
        {
            "id": "readme",
            "title": "Document it",
            "kind": "format",
            "spec": "Say so in README.md.",
            "read_files": [],
            "edit_files": ["README.md"],
            "depends_on": ["sub"],
            "checks": [],
        },
    ],
}


def _check() -> st.SearchStrategy[str]:
    # What a plan can hold: stripped, non-empty commands, maybe over several lines.
    text = st.text(st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1)
    lines = st.lists(text, min_size=1, max_size=4).map("\n".join)
    return lines.map(str.strip).filter(bool)


@given(st.lists(_check(), max_size=6))
@example(["0 \n0"])  # a space at the end of a check's first line is the check's own
def test_lists_round_trip_through_their_text(items: list[str]) -> None:
    assert items_from(lines_text(items)) == items


def test_a_semicolon_never_splits_a_check() -> None:
    check = "python3 -c 'import calc; assert calc.sub(5, 3) == 2'"
    assert items_from(lines_text([check, "make test"])) == [check, "make test"]


async def _select(pilot: Any, screen: PlanScreen, subtask_id: str) -> None:
    tree = screen.query_one(PlanTree)
    tree.focus()
    await pilot.press("home")
    while tree.selected_id != subtask_id:
        await pilot.press("down")


async def test_opening_and_saving_the_editor_leaves_every_field_unchanged(
    models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    models.add("planner", [json.dumps(TRICKY)])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await plan_task(pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen) and screen.plan is not None
        before = screen.plan
        for subtask_id in ("sub", "readme"):
            await _select(pilot, screen, subtask_id)
            await pilot.press("e")
            assert isinstance(app.screen, SubtaskForm)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.screen is screen)
        assert screen.plan == before
        assert screen.plan.model_dump() == Plan.model_validate(TRICKY).model_dump()

        # Changing one check changes that check alone.
        await _select(pilot, screen, "sub")
        await pilot.press("e")
        checks = app.screen.query_one("#checks", TextArea)
        checks.replace("make test", checks.document.start, (0, len(checks.document[0])))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen)
        assert screen.plan.get("sub").checks == ["make test", *before.get("sub").checks[1:]]


async def test_send_back_carries_the_review_to_the_planner(
    models: Models, make_app: MakeApp
) -> None:
    review: dict[str, Any] = {
        "verdict": "request_changes",
        "summary": "sub works but README is thin.",
        "comments": [
            {"path": "calc.py", "line": 5, "severity": "warning", "body": "name the operands"},
            {"path": "README.md", "severity": "error", "body": "show an example call"},
        ],
        "follow_ups": [],
    }
    happy_models(models)
    models.add("reviewer", [json.dumps(review)])
    models.add("planner", [PLAN, PLAN])
    models.add("coder", [whole("calc.py", CALC_SUB)] * 2)
    models.add("formatter", [whole("README.md", README)] * 2)
    models.add("reviewer", [json.dumps(review), APPROVE])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await run_task(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.press("s")
        remark = app.screen.query_one("#remark", TextArea)
        for said in (review["summary"], "calc.py:5 (warning): name the operands"):
            assert said in remark.text
        remark.insert("And keep it short.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan)
    prompt = models["planner"].requests[1].messages[-1].content
    for said in (
        "sub works but README is thin.",
        "name the operands",
        "README.md (error): show an example call",
        "And keep it short.",
    ):
        assert said in prompt


async def test_at_80x24_the_form_scrolls_to_every_field(models: Models, make_app: MakeApp) -> None:
    happy_models(models)
    models.add("planner", [json.dumps(TRICKY)])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await plan_task(pilot)
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, SubtaskForm)
        body = form.query_one(VerticalScroll)
        assert body.virtual_size.height > body.size.height  # it does not fit: it must scroll
        for field in ("checks", "spec"):
            area = form.query_one(f"#{field}", TextArea)
            for _ in range(12):
                if app.focused is area:
                    break
                await pilot.press("tab")
            await pilot.pause()
            assert app.focused is area
            assert body.region.contains_region(area.region), field
        assert body.scroll_y > 0
