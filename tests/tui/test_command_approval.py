"""In the TUI every command a model wrote is shown whole and approved before it runs: the plan's
and, in a later dialog, a reviewer's follow-ups; a command the user refuses never runs."""

from __future__ import annotations

import json
from pathlib import Path

from textual.geometry import Region
from textual.widget import Widget

from orchestrate.engine.run_files import RepoFiles
from orchestrate.tui.screens.approval import CommandApproval, CommandChoice
from orchestrate.tui.screens.run import RunScreen

from .tui_support import (
    APPROVE,
    CALC_SUB,
    README,
    MakeApp,
    Models,
    plan_task,
    run_ends,
    subtask,
    until,
    whole,
)

# Longer than any dialog line at 80 columns; its end is what a cut would lose.
LONG = (
    "python -c 'import calc; assert calc.sub(5, 3) == 2' && "
    "grep -q 'def sub' calc.py && echo the-end-of-a-long-command-that-must-be-seen > marker.txt"
)
# One long word: it cannot wrap at a space.
URL = "echo http://127.0.0.1:9/" + "a" * 150 + "/the-end"
PLAN = json.dumps(
    {
        "summary": "Add sub.",
        "subtasks": [
            subtask("sub", "code", ["calc.py"], [LONG], []),
            subtask("url", "format", ["README.md"], [URL], ["sub"]),
        ],
    }
)
FOLLOW_UP_CHECK = 'grep -q \'"""\' calc.py && touch follow-up-ran.txt'
CHANGES = json.dumps(
    {
        "verdict": "request_changes",
        "summary": "calc.py needs a docstring.",
        "comments": [],
        "follow_ups": [subtask("docstring", "code", ["calc.py"], [FOLLOW_UP_CHECK], [])],
    }
)


def _models(models: Models, reviews: list[str]) -> None:
    models.add("planner", [PLAN])
    models.add("coder", [whole("calc.py", CALC_SUB), whole("calc.py", '"""Calc."""\n' + CALC_SUB)])
    models.add("formatter", [whole("README.md", README)])
    models.add("tester", [])
    models.add("reviewer", reviews)


def on_screen(widget: Widget) -> list[str]:
    """The lines the widget draws, as text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return [strip.text.rstrip() for strip in widget.render_lines(region)]


def _worktree(project: Path) -> Path:
    return RepoFiles.of(project).run("tui-1").worktree


async def test_each_command_is_shown_whole_at_80_columns_and_runs_once_approved(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    _models(models, [APPROVE])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, CommandApproval))
        dialog = app.screen
        assert isinstance(dialog, CommandApproval)
        choices = list(dialog.query(CommandChoice))
        await pilot.pause()
        assert [on_screen(choice)[0].strip() for choice in choices] == [
            "[x] planner · subtask sub",
            "[x] planner · subtask url",
        ]
        # Wrapped, never cut: every character of each command is on the screen.
        for choice, command in zip(choices, (LONG, URL), strict=True):
            assert choice.content_region.width < len(command)
            assert "".join("".join(on_screen(choice)[1:]).split()) == "".join(command.split())
        # Nothing ran while the question was open.
        assert not (_worktree(project) / "marker.txt").exists()

        await pilot.press("y")
        await run_ends(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.result is not None
        [record] = [r for r in screen.result.commands if r.command == LONG]
        assert (record.proposed_by, record.approved_by, record.runs) == (
            "planner",
            "you, in the TUI",
            1,
        )


async def test_a_refused_command_never_runs(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    _models(models, [APPROVE])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, CommandApproval))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.result)
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.result is not None
        [record] = [r for r in screen.result.commands if r.command == LONG]
        assert (record.approved_by, record.runs) == (None, 0)
        assert record.refusal == "you said no in the TUI"
    assert not (_worktree(project) / "marker.txt").exists()


async def test_a_reviewers_follow_up_commands_are_asked_about_again(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    _models(models, [CHANGES, APPROVE])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, CommandApproval))
        await pilot.press("y")
        # The follow-up's check is a new command: a second question, before it runs.
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, CommandApproval)
                and FOLLOW_UP_CHECK in str(app.screen.query_one(CommandChoice).render())
            ),
        )
        dialog = app.screen
        assert isinstance(dialog, CommandApproval)
        [choice] = dialog.query(CommandChoice)
        assert str(choice.render()).startswith("[x] reviewer · subtask docstring")
        assert not (_worktree(project) / "follow-up-ran.txt").exists()
        await pilot.press("y")
        await run_ends(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.result is not None
        by = {r.command: (r.proposed_by, r.approved_by) for r in screen.result.commands}
        assert by[FOLLOW_UP_CHECK] == ("reviewer", "you, in the TUI")
