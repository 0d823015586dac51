"""Past runs from the ledger; Enter opens one's diff, `r` resumes one that was cut short."""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from orchestrate.ledger.store import RunSummary
from orchestrate.tui.messages import DiffRequested, ResumeRequested
from orchestrate.tui.widgets.cost_bar import CostBar


class RunsScreen(Screen[None]):
    """Every run the ledger knows, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open diff"),
        Binding("r", "resume", "Resume run"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, runs: list[RunSummary], resumable: set[str] | None = None) -> None:
        """`resumable`: ids of runs with saved progress and no result yet."""
        super().__init__()
        self.runs = sorted(runs, key=lambda run: run.first_at, reverse=True)
        self.resumable = resumable or set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{len(self.runs)} past run(s) in the ledger", classes="banner")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield CostBar(id="cost")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.add_columns("run", "state", "started", "attempts", "cloud $", "local tokens")
        for run in self.runs:
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.first_at))
            row = (
                run.run_id,
                "resumable" if run.run_id in self.resumable else "",
                started,
                run.attempts,
                f"{run.cloud_usd:.4f}",
                f"{run.local_tokens:,}",
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
