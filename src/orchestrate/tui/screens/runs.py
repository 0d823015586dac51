"""Past runs; Enter opens one's diff, `r` resumes one that was cut short (never the live one)."""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from orchestrate.tui.messages import DiffRequested, ResumeRequested
from orchestrate.tui.past_runs import PastRun
from orchestrate.tui.widgets.cost_bar import CostBar


class RunsScreen(Screen[None]):
    """Runs with something to open or resume, newest first (see `past_runs`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open diff"),
        Binding("r", "resume", "Resume run"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, runs: list[PastRun]) -> None:
        super().__init__()
        self.runs = runs
        self.resumable = {run.run_id for run in runs if run.standing == "resumable"}
        """Ids of runs with saved progress, no result yet, and no engine on them."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{len(self.runs)} past run(s)", classes="banner")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield CostBar(id="cost")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.add_columns("task", "state", "started", "cloud $", "local tokens", "run")
        for run in self.runs:
            summary = run.summary
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.first_at))
            row = (
                run.title,
                run.standing,
                started,
                f"{summary.cloud_usd:.4f}",
                f"{summary.local_tokens:,}",
                run.run_id,
            )
            table.add_row(*row, key=run.run_id)
        table.focus()

    @property
    def selected_id(self) -> str | None:
        """Id of the run under the cursor."""
        found = self.query("#runs")
        table = found.first(DataTable) if found else None
        if table is None or not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_open(self) -> None:
        run_id = self.selected_id
        if run_id:
            self.post_message(DiffRequested(run_id))

    def action_resume(self) -> None:
        run_id = self.selected_id
        if run_id in self.resumable:
            self.post_message(ResumeRequested(run_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume":
            return self.selected_id in self.resumable
        return True

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_back(self) -> None:
        self.dismiss()
