"""Whole interactions with the TUI, driven by a pilot over scripted models and a real git repo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Log, OptionList, RichLog, Static, TextArea

from orchestrate.engine.workspace import Workspace
from orchestrate.models.scripted import ScriptedFailure
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.tui.app import OrchestrateApp
from orchestrate.tui.history import TaskHistory
from orchestrate.tui.screens.help import HelpScreen
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.review import ReviewScreen
from orchestrate.tui.screens.run import RunScreen
from orchestrate.tui.screens.runs import RunsScreen
from orchestrate.tui.screens.task import TaskScreen
from orchestrate.tui.widgets.log_pane import AgentLog
from orchestrate.tui.widgets.plan_tree import PlanTree
from orchestrate.tui.widgets.subtask_list import SubtaskList

from .tui_support import (
    CALC_SUB,
    CALC_SUB_BAD,
    CHAINS,
    FLOATS,
    PLAN,
    README,
    RUN_ID,
    WAIT_S,
    MakeApp,
    Models,
    approve_commands,
    current,
    git,
    happy_models,
    plan_task,
    run_ends,
    run_task,
    shown,
    two_runs_models,
    type_task,
    until,
    whole,
)

SIZE = (140, 45)


def text_of(widget: Static) -> str:
    return str(widget.render())


async def test_task_plan_run_diff_verdict_and_cost(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await plan_task(pilot)
        plan_screen = app.screen
        assert isinstance(plan_screen, PlanScreen)
        tree = plan_screen.query_one(PlanTree)
        labels = [str(node.label) for node in tree.root.children]
        assert labels == ["sub  [code]  Step sub", "readme  [format]  Step readme"]
        details = [str(leaf.label) for leaf in tree.root.children[0].children]
        assert "agent coder  models scripted:coder" in details
        assert "edit  calc.py" in details
        assert any(line.startswith("check ") and "calc.sub(5, 3)" in line for line in details)
        assert "after sub" in [str(leaf.label) for leaf in tree.root.children[1].children]
        # What the planner wrote was streamed onto the screen while it planned.
        assert '"summary"' in "\n".join(plan_screen.query_one("#planner-log", Log).lines)
        # The planner was asked about the typed task, title and body.
        prompt = models["planner"].requests[0].messages[-1].content
        assert "Add subtraction" in prompt and "calc needs sub(a, b)" in prompt

        await pilot.press("ctrl+s")
        await run_ends(pilot)
        run_screen = app.screen
        assert isinstance(run_screen, RunScreen)
        assert run_screen.result is not None and run_screen.result.status == "approved"
        table = run_screen.query_one(SubtaskList)
        assert table.statuses == {"sub": "done", "readme": "done"}
        # What the coder's model wrote was streamed into the coder's pane, under its name.
        coder_log = run_screen.query_one("#log-coder", AgentLog)
        assert "def sub(a, b):" in coder_log.text
        assert coder_log.model_line == "coder: answered by scripted:coder"
        activity = "\n".join(str(line.text) for line in run_screen.query_one(RichLog).lines)
        assert "✓ formatter: scripted:formatter answered (100→20 tokens)" in activity
        assert "reviewer: approve with 1 comment(s)" in activity

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        review = app.screen
        assert isinstance(review, ReviewScreen)
        files = review.query_one("#files", OptionList)
        assert [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)] == [
            "README.md +4 -0",
            "calc.py +4 -0",
        ]
        verdict = text_of(review.query_one("#verdict", Static))
        assert "approve" in verdict and "sub is correct and documented." in verdict
        assert "calc.py:5" in verdict
        await pilot.press("down")
        await pilot.pause()
        diff = text_of(review.query_one(".diff-text", Static))
        assert "def sub(a, b):" in diff
        # The comment sits right under line 5 of the new calc.py.
        lines = diff.splitlines()
        at = next(i for i, line in enumerate(lines) if "info: nice and small" in line)
        assert lines[at - 1].split()[:3] == ["5", "+", "def"]

        # Local models only: no cloud spend, tokens counted, savings against the reference.
        assert app.cost.cloud_usd == 0.0
        # Four calls of 100+20 tokens: planner, coder, formatter, reviewer.
        assert app.cost.local_tokens == 4 * 120
        bar = text_of(review.query_one("#cost", Static))
        assert "cloud $0.0000" in bar and f"local {app.cost.local_tokens:,} tokens" in bar
        assert app.cost.saved_usd > 0

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen))
    # Accepting kept the branch and dropped the run's worktree; the user's checkout is untouched.
    assert git(project, "show", f"orchestrate/{RUN_ID}:calc.py") == CALC_SUB
    assert f"orchestrate/{RUN_ID}" not in git(project, "worktree", "list")
    assert git(project, "status", "--porcelain") == ""


async def test_plan_can_be_edited_trimmed_extended_and_replanned(
    models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    models.add("planner", [PLAN, PLAN])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await plan_task(pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        commands = [command.title for command in app.get_system_commands(screen)]
        assert {"Approve & run", "Edit", "Re-plan", "Past runs", "Help"} <= set(commands)

        # Edit the spec of the selected subtask (the first one).
        await pilot.press("e")
        spec = app.screen.query_one("#spec", TextArea)
        spec.load_text("Write sub(a, b) returning a - b, with a docstring.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.plan is not None
        assert screen.plan.get("sub").spec == "Write sub(a, b) returning a - b, with a docstring."

        # Drop it: the subtask that depended on it stays, without the dependency.
        await pilot.press("d")
        await pilot.pause()
        assert [s.id for s in screen.plan.subtasks] == ["readme"]
        assert screen.plan.get("readme").depends_on == []

        # Add one through the form.
        await pilot.press("n")
        form = app.screen
        form.query_one("#title", Input).value = "Add a changelog"
        form.query_one("#edit", TextArea).load_text("CHANGELOG.md")
        form.query_one("#spec", TextArea).load_text("Start a changelog.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [s.id for s in screen.plan.subtasks] == ["readme", "add-a-changelog"]
        assert screen.plan.get("add-a-changelog").edit_files == ["CHANGELOG.md"]

        # Re-plan with a remark: the planner sees it, and its new plan replaces the edited one.
        await pilot.press("r")
        app.screen.query_one("#remark", TextArea).insert("keep README untouched")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(models["planner"].requests) == 2 and screen.plan)
        await until(pilot, lambda: screen.plan is not None and len(screen.plan.subtasks) == 2)
        second = models["planner"].requests[1].messages[-1].content
        assert "keep README untouched" in second
        assert "readme: Step readme" in second
        assert [s.id for s in screen.plan.subtasks] == ["sub", "readme"]

        # The run carries out the plan as approved, edits included, without planning again.
        await pilot.press("e")
        # The cursor stayed on the subtask it was on before the re-plan.
        assert screen.query_one(PlanTree).selected_id == "readme"
        app.screen.query_one("#spec", TextArea).load_text("EDITED: document sub in README.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await run_ends(pilot)
    models["planner"].assert_done()
    assert "EDITED: document sub in README." in models["formatter"].requests[0].messages[-1].content


async def test_failed_checks_fallbacks_and_model_in_use_are_shown(
    models: Models, make_app: MakeApp
) -> None:
    down = ScriptedFailure(Failure(FailureKind.MOVE_ON, "unreachable", "connection refused"))
    happy_models(models)
    models.add("down", [down] * 3)
    models.add("coder", [whole("calc.py", CALC_SUB_BAD), whole("calc.py", CALC_SUB)])
    chains = CHAINS | {"coder": ["scripted:down", "scripted:coder"]}
    app = make_app(chains)
    async with app.run_test(size=SIZE) as pilot:
        await run_task(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        activity = "\n".join(str(line.text) for line in screen.query_one(RichLog).lines)
        assert "✗ coder: scripted:down failed (unreachable)" in activity
        assert "↪ coder: scripted:down → scripted:coder (unreachable)" in activity
        assert "✗ sub: check failed:" in activity
        table = screen.query_one(SubtaskList)
        notes = "\n".join(table.details["sub"])
        assert "check failed: " in notes and "AssertionError" in notes
        assert table.statuses["sub"] == "done"
        # The first row is selected, so its latest notes are on show.
        detail = text_of(screen.query_one("#subtask-detail", Static))
        assert "AssertionError" in detail
        coder = screen.query_one("#log-coder", AgentLog)
        assert coder.model_line == "coder: answered by scripted:coder"
        # Both of the coder's answers were streamed, the wrong one first.
        assert coder.text.index("return b - a") < coder.text.index("return a - b")


async def test_cancel_stops_the_run_and_keeps_its_branch(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    happy_models(models)
    models.add("coder", [whole("calc.py", CALC_SUB)], delay=30)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _cancel_while_running(pilot, "sub")
        status = text_of(screen.query_one("#run-status", Static))
        assert status.startswith("stopped: cancelled")
        assert screen.query_one(SubtaskList).statuses["sub"] == "running"
        assert not any(worker.is_running for worker in app.workers)

        # The run is in the ledger's history, and its branch can be reopened.
        await pilot.press("ctrl+r")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        table = runs.query_one("#runs", DataTable)
        assert table.get_row_at(0)[:2] == ["Add subtraction", "resumable"]
        assert table.get_row_at(0)[-1] == RUN_ID
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        assert "(no changes)" in str(
            app.screen.query_one("#files", OptionList).get_option_at_index(0).prompt
        )
    workspace = Workspace.open(project, RUN_ID)
    assert workspace.branch == f"orchestrate/{RUN_ID}"
    assert workspace.commits() == []


async def _cancel_while_running(pilot: Pilot[Any], subtask_id: str) -> RunScreen:
    """Approve the plan and cancel the run while `subtask_id` is being worked on."""
    await plan_task(pilot)
    await pilot.press("ctrl+s")
    await approve_commands(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RunScreen)
    await until(pilot, lambda: screen.query_one(SubtaskList).statuses[subtask_id] == "running")
    await pilot.press("c")
    await until(pilot, lambda: not screen.running)
    return screen


async def _cancel_while_readme_runs(pilot: Pilot[Any], models: Models) -> RunScreen:
    """Approve the plan, let `sub` finish, and cancel while the formatter works on `readme`."""
    screen = await _cancel_while_running(pilot, "readme")
    assert len(models["formatter"].requests) == 1
    # The formatter's cut-off call was never answered; a new script answers the resumed one.
    models.add("formatter", [whole("README.md", README)])
    return screen


def _subtask_commits(project: Path) -> list[str | None]:
    commits = Workspace.open(project, RUN_ID).commits()
    return [commit.trailers.get("Orchestrate-Subtask") for commit in commits]


def _slow_formatter(models: Models) -> None:
    happy_models(models)
    models.add("formatter", [whole("README.md", README)], delay=WAIT_S * 2)


async def test_a_cancelled_run_resumes_from_its_screen_without_redoing_work(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    _slow_formatter(models)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        stopped = await _cancel_while_readme_runs(pilot, models)
        status = text_of(stopped.query_one("#run-status", Static))
        assert status.startswith("stopped: cancelled") and "r: resume" in status
        assert _subtask_commits(project) == ["sub"]

        await pilot.press("r")
        await run_ends(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen is not stopped
        assert screen.result is not None and screen.result.status == "approved"
        table = screen.query_one(SubtaskList)
        assert table.statuses == {"sub": "done", "readme": "done"}
        assert any(note.startswith("before resuming:") for note in table.details["sub"])
        assert not screen.check_action("resume", ())
    # `sub` was not redone: one coder call, one commit per subtask, in the plan's order.
    assert len(models["coder"].requests) == 1
    assert len(models["formatter"].requests) == 1
    assert len(models["planner"].requests) == 1
    assert _subtask_commits(project) == ["sub", "readme"]
    assert git(project, "show", f"orchestrate/{RUN_ID}:README.md") == README


async def test_past_runs_mark_unfinished_runs_resumable_and_resume_them(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    _slow_formatter(models)
    first = make_app()
    async with first.run_test(size=SIZE) as pilot:
        await _cancel_while_readme_runs(pilot, models)
    # A later TUI over the same repository and ledger.
    app = OrchestrateApp(first.session, history=TaskHistory(None))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        table = runs.query_one("#runs", DataTable)
        assert table.get_row_at(0)[:2] == ["Add subtraction", "resumable"]
        commands = [command.title for command in app.get_system_commands(runs)]
        assert "Resume run" in commands

        await pilot.press("r")
        await run_ends(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.result is not None and screen.result.status == "approved"
        assert shown(screen.query_one("#run-task", Static)).endswith("Add subtraction")
    assert len(models["coder"].requests) == 1
    assert _subtask_commits(project) == ["sub", "readme"]

    # Finished now: no longer resumable, and opening it shows the diff with the saved review.
    app = OrchestrateApp(first.session, history=TaskHistory(None))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        assert runs.query_one("#runs", DataTable).get_row_at(0)[:2] == [
            "Add subtraction",
            "approved",
        ]
        assert not runs.check_action("resume", ())
        await pilot.press("r")
        await pilot.pause()
        assert app.screen is runs
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        verdict = text_of(app.screen.query_one("#verdict", Static))
        assert "approve" in verdict and "sub is correct and documented." in verdict


async def test_task_history_is_recalled_and_kept(
    project: Path, make_app: MakeApp, models: Models
) -> None:
    models.add("planner", [PLAN])
    history_file = project / ".orchestrate" / "history.json"
    app = make_app(history=TaskHistory(history_file, ["Older task", "Newest task"]))
    async with app.run_test(size=SIZE) as pilot:
        area = app.screen.query_one("#task-input", TextArea)
        await pilot.press("ctrl+up")
        assert area.text == "Newest task"
        await pilot.press("ctrl+up", "ctrl+up")
        assert area.text == "Older task"
        await pilot.press("ctrl+down", "ctrl+down")
        assert area.text == ""
        await pilot.press("F", "i", "x", "space", "i", "t")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen))
        assert current(app, PlanScreen).task_spec.title == "Fix it"
    assert TaskHistory(history_file).entries == ["Older task", "Newest task", "Fix it"]


async def test_help_screen_lists_every_screens_keys(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        for line in (
            "| `ctrl+s` | Approve & run |",
            "| `c` | Cancel run |",
            "| `m` | Merge |",
        ):
            assert line in app.screen.text
        await pilot.press("escape")
        assert isinstance(app.screen, TaskScreen)


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(cwd.parent)}
    code = "import sys; from orchestrate.cli.app import main; sys.argv[0] = 'orchestrate'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.DEVNULL,
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_outside_a_git_repo_says_so_in_one_line(tmp_path: Path) -> None:
    done = _cli(["tui"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "is not a git repository: run `git init` there" in done.stderr
    assert str(tmp_path) in done.stderr


def test_without_a_terminal_the_app_does_not_start(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(
        tmp_path,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "i",
    )
    done = _cli(["tui"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: the interactive app needs a terminal: run it in one, or use `orchestrate run plan.md`"
    ]


def test_help_does_not_load_textual(tmp_path: Path) -> None:
    code = (
        "import sys; from orchestrate.cli.app import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('textual' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "tui" in done.stdout
    assert done.stdout.strip().endswith("False")


async def test_send_back_replans_with_the_remark_builds_on_the_branch_and_merge_lands_it(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    two_runs_models(models)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await run_task(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.press("s")
        app.screen.query_one("#remark", TextArea).insert("also handle floats")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan)
        plan_screen = app.screen
        assert isinstance(plan_screen, PlanScreen)
        assert plan_screen.run_id == "tui-2"
        assert "also handle floats" in models["planner"].requests[1].messages[-1].content
        assert [type(s) for s in app.screen_stack[1:]] == [TaskScreen, PlanScreen]

        await pilot.press("ctrl+s")
        await run_ends(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        assert current(app, ReviewScreen).run_id == "tui-2"
        # The second run worked on the first one's branch: its coder saw `sub` already there.
        assert "def sub(a, b)" in models["coder"].requests[1].messages[-1].content
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen))
    assert (project / "calc.py").read_text() == FLOATS
    assert (project / "README.md").read_text() == README
    assert "Merge branch 'orchestrate/tui-2'" in git(project, "log", "-1", "--format=%s")
    runs = git(project, "log", "--format=%(trailers:key=Orchestrate-Run,valueonly)", "HEAD^2")
    assert [line for line in runs.splitlines() if line] == ["tui-2", "tui-1", "tui-1"]


async def test_a_planner_failure_is_shown_and_replanning_recovers(
    models: Models, make_app: MakeApp
) -> None:
    # Invalid answers (not a cooldown-worthy failure, so the same model can be asked again).
    models.add("planner", ["no plan, sorry", "still no plan", PLAN])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_task(pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        status = screen.query_one("#plan-status", Static)
        await until(pilot, lambda: "planning failed" in text_of(status))
        assert "no model could answer (scripted:planner: invalid_output)" in text_of(status)
        assert not screen.check_action("approve", ())
        await pilot.press("r")
        app.screen.query_one("#remark", TextArea).insert("try again")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.plan is not None)
        plan = screen.plan
        assert plan is not None
        assert [s.id for s in plan.subtasks] == ["sub", "readme"]


async def test_a_past_run_can_be_sent_back_and_the_new_run_builds_on_its_branch(
    project: Path, models: Models, make_app: MakeApp
) -> None:
    two_runs_models(models)
    first = make_app()
    async with first.run_test(size=SIZE) as pilot:
        await run_task(pilot)
    # A later TUI: the run is only in the ledger and its saved state.
    app = OrchestrateApp(first.session, run_ids=lambda _: "tui-2", history=TaskHistory(None))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.press("s")
        app.screen.query_one("#remark", TextArea).insert("also divide")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan)
        assert "also divide" in models["planner"].requests[1].messages[-1].content
        await pilot.press("ctrl+s")
        await run_ends(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.run_id == "tui-2"
        assert screen.result is not None and screen.result.status == "approved"
    assert "def sub(a, b)" in models["coder"].requests[1].messages[-1].content
    assert git(project, "show", "orchestrate/tui-2:calc.py") == FLOATS
    assert git(project, "show", "orchestrate/tui-1:calc.py") == CALC_SUB
