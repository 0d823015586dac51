"""The one run the TUI is planning or carrying out, and the one place that guards it.

`LiveRunApp.live` names it; `LiveRunApp.when_free` is asked before anything that would start,
resume or quit past it (and asks the user first when stopping it would lose work). Screens,
footers and Past runs read `live` from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from textual.app import App

from orchestrate.tui.screens.dialogs import ConfirmDialog
from orchestrate.tui.screens.task import TaskScreen

Phase = Literal["planning", "running"]
ENGINE = "engine"
"""The worker group of whatever engine the app runs: one at a time (`exclusive`)."""


@dataclass(frozen=True)
class LiveRun:
    """A run with an engine working on it in this process."""

    run_id: str
    phase: Phase

    @property
    def blocks(self) -> bool:
        """Whether stopping it loses work the user may want: a run under way, not a plan."""
        return self.phase == "running"

    def question(self, doing: str) -> str:
        """Asked before `doing` would stop this run."""
        return f"Run {self.run_id} is still running. Stop it and {doing}?"

    def hint(self) -> str:
        """How to carry on with the run once it is stopped."""
        return resume_hint(self.run_id)


def resume_hint(run_id: str) -> str:
    """Where a stopped run's work is, and the two ways to resume it."""
    return (
        f"Its finished subtasks stay on branch orchestrate/{run_id}. Resume it from Past runs "
        f"(ctrl+r, then r) or with `orchestrate run --resume {run_id}`."
    )


class LiveRunApp(App[str | None]):
    """The app's knowledge of its live run; returns what to print after quitting, if anything."""

    def __init__(self) -> None:
        super().__init__()
        self.live: LiveRun | None = None
        """The run an engine is planning or carrying out in this app, if any."""

    def when_free(self, doing: str, then: Callable[[], object]) -> None:
        """Do `then` now unless a run is under way; then ask first, and stop the run on yes.

        The one place that lets anything start, resume or quit past a live run.
        """
        live = self.live
        if live is None or not live.blocks:
            then()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.workers.cancel_group(self, ENGINE)
                then()

        self.push_screen(ConfirmDialog(live.question(doing), live.hint()), answer)

    def _going_live(self, run_id: str, phase: Phase) -> LiveRun:
        self.live = LiveRun(run_id, phase)
        return self.live

    def _gone(self, live: LiveRun) -> None:
        # A worker that was replaced must not forget its successor's run.
        if self.live is live:
            self.live = None

    async def action_quit(self) -> None:
        live = self.live
        self.when_free("quit", partial(self._quit, live))

    def _quit(self, live: LiveRun | None) -> None:
        # What the command prints once the terminal is back: how to carry on with the run.
        said = f"Run {live.run_id} stopped. {live.hint()}" if live and live.blocks else None
        self.exit(said)

    def _to_task_screen(self) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, TaskScreen):
            self.pop_screen()
