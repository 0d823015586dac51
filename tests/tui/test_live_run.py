"""One live run at a time: never offered as resumable, never stopped or left without asking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.run_lock import run_lock
from orchestrate.engine.run_state import load_state
from orchestrate.tui.screens.dialogs import ConfirmDialog
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.run import RunScreen
from orchestrate.tui.screens.runs import RunsScreen
from orchestrate.tui.screens.task import TaskScreen
from orchestrate.tui.widgets.subtask_list import SubtaskList

from .tui_support import (
    CALC_SUB,
    RUN_ID,
    WAIT_S,
    MakeApp,
    Models,
    approve_commands,
    current,
    footer,
    happy_models,
    plan_task,
    run_ends,
    showing,
    shown,
    until,
    whole,
)

SIZE = (120, 36)


async def _running(pilot: Pilot[Any], models: Models) -> RunScreen:
    """Approve the plan and wait until the coder is at work (it will not answer in time)."""
    happy_models(models)
    models.add("coder", [whole("calc.py", CALC_SUB)], delay=WAIT_S * 2)
    await plan_task(pilot)
    await pilot.press("ctrl+s")
    await approve_commands(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RunScreen)
    await until(pilot, lambda: screen.query_one(SubtaskList).statuses.get("sub") == "running")
    return screen


async def test_the_live_run_is_listed_as_running_and_cannot_be_resumed_again(
    models: Models, make_app: MakeApp
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _running(pilot, models)
        await pilot.press("ctrl+r")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        assert runs.query_one("#runs", DataTable).get_row_at(0)[:2] == [
            "Add subtraction",
            "running",
        ]
        assert not runs.check_action("resume", ())
        assert "r" not in footer(runs)
        await pilot.press("r")
        await pilot.pause()
        assert showing(app, runs)
        await pilot.press("escape")
        # The run goes on, and its footer still offers what is possible: cancel, not resume.
        assert showing(app, screen) and screen.running
        await pilot.pause()
        keys = footer(screen)
        assert "c" in keys and "r" not in keys
        assert len(app.workers) >= 1 and any(w.is_running for w in app.workers)
        await pilot.press("c")
        await until(pilot, lambda: not screen.running)
        await pilot.pause()
        assert "r" in footer(screen) and "c" not in footer(screen)


async def test_new_task_during_a_run_asks_first_and_says_how_to_resume(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _running(pilot, models)
        # From the command palette's "New task" (the run screen's `n` goes the same way).
        app.action_new_task()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert f"Run {RUN_ID} is still running" in dialog.question
        assert f"orchestrate run --resume {RUN_ID}" in dialog.detail
        assert footer(dialog) == {"y": "Yes", "n": "No"}
        await pilot.press("n")
        assert app.screen is screen and screen.running

        await pilot.press("n")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.live is None)
    state = load_state(RepoFiles.of(project).run(RUN_ID).state)
    assert state.result is None  # stopped, resumable


async def test_quit_during_a_run_asks_first_and_leaves_it_resumable(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _running(pilot, models)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")
        assert showing(app, screen) and screen.running and app.is_running
        await pilot.press("ctrl+q")
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0
    said = app.return_value or ""
    assert f"Run {RUN_ID} stopped" in said and f"orchestrate run --resume {RUN_ID}" in said
    assert load_state(RepoFiles.of(project).run(RUN_ID).state).result is None


async def test_quit_with_no_run_under_way_just_quits_and_the_task_screen_says_how(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert footer(app.screen)["ctrl+q"] == "Quit"
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_value is None


async def test_ctrl_s_right_after_typing_submits_the_whole_task(
    models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    app = make_app()
    text = "Add subtraction to calc"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # As fast as a terminal delivers a paste or a quick typist: no pause between keys.
        for char in text:
            key = "space" if char == " " else char
            app.post_message(events.Key(key, char))
        app.post_message(events.Key("ctrl+s", None))
        await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan)
        assert current(app, PlanScreen).task_spec.title == text


async def test_merge_errors_name_the_cause(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await plan_task(pilot)
        await pilot.press("ctrl+s")
        await run_ends(pilot)
        (project / "calc.py").write_text("# my own edit, not committed\n")
        await pilot.press("d")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ReviewScreen")
        app.clear_notifications()
        await pilot.press("m")
        await until(pilot, lambda: bool(app._notifications))
        [note] = list(app._notifications)
        said = note.message
    assert "Your local changes to the following files would be overwritten" in said
    assert note.title == "Not accepted"
    assert "calc.py" in said and "git merge orchestrate/tui-1" in said
    assert (project / "calc.py").read_text() == "# my own edit, not committed\n"


async def test_merging_an_unfinished_run_asks_first(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _running(pilot, models)
        await pilot.press("c")
        await until(pilot, lambda: not screen.running)
        await pilot.press("ctrl+r", "enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ReviewScreen")
        review = app.screen
        await pilot.press("m")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question == f"Run {RUN_ID} is unfinished. Merge it into your branch?"
        await pilot.press("n")
        assert app.screen is review
        await pilot.press("a")
        again = current(app, ConfirmDialog)
        assert "can no longer be resumed" in shown(again.query_one("#confirm-detail", Static))
        await pilot.press("n")
    # Nothing was merged or removed: the run can still be resumed.
    assert RepoFiles.of(project).run(RUN_ID).worktree.is_dir()


async def test_a_run_another_process_holds_is_not_offered_for_resuming(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _running(pilot, models)
        await pilot.press("c")
        await until(pilot, lambda: not screen.running)
        # Another process (here: a lock taken as `orchestrate run --resume` would) takes it on.
        with run_lock(project, RUN_ID).held():
            await pilot.press("ctrl+r")
            runs = app.screen
            assert isinstance(runs, RunsScreen)
            row = runs.query_one("#runs", DataTable).get_row_at(0)
            assert row[1] == "running elsewhere"
            assert not runs.check_action("resume", ())
            await pilot.press("escape")
        await pilot.press("ctrl+r")
        assert app.screen.query_one("#runs", DataTable).get_row_at(0)[1] == "resumable"
