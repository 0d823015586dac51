"""Past runs from the ledger; Enter opens one's diff."""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from orchestrate.ledger.store import RunSummary
from orchestrate.tui.messages import DiffRequested
from orchestrate.tui.widgets.cost_bar import CostBar


class RunsScreen(Screen[None]):
    """Every run the ledger knows, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open diff"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, runs: list[RunSummary]) -> None:
        super().__init__()
        self.runs = sorted(runs, key=lambda run: run.first_at, reverse=True)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{len(self.runs)} past run(s) in the ledger", classes="banner")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield CostBar(id="cost")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.add_columns("run", "started", "attempts", "cloud $", "local tokens")
        for run in self.runs:
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.first_at))
            row = (
                run.run_id,
                started,
                run.attempts,
                f"{run.cloud_usd:.4f}",
                f"{run.local_tokens:,}",
            )
            table.add_row(*row, key=run.run_id)
        table.focus()

    def action_open(self) -> None:
        table = self.query_one("#runs", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key:
                self.post_message(DiffRequested(key))

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()

    def action_back(self) -> None:
        self.dismiss()
