"""The live list of subtasks with their status (queued, running, checking, escalated, done, failed)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from orchestrate.engine.plan import Plan

STATUS_STYLE = {
    "planned": "dim",
    "queued": "dim",
    "running": "bold yellow",
    "checking": "bold blue",
    "escalated": "bold magenta",
    "done": "bold green",
    "failed": "bold red",
}
# Fixed widths: the table does not jump about as statuses change while a run goes on.
_COLUMNS = {"id": 14, "status": 9, "agent": 9, "model": 26, "kind": 6, "detail": 40}


class SubtaskList(DataTable[str | Text]):
    """One row per subtask (follow-ups from the review are added as they appear)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.statuses: dict[str, str] = {}
        """Each subtask's latest status, by id."""
        self.agents: dict[str, str] = {}
        """Each subtask's agent, by id."""
        self.models: dict[str, str] = {}
        """The model each subtask is on (or was done by), by id."""
        self.details: dict[str, list[str]] = {}
        """Each subtask's notes so far (status details, failed checks' output), by id."""

    def on_mount(self) -> None:
        for column, width in _COLUMNS.items():
            self.add_column(column, key=column, width=width)

    def load(self, plan: Plan) -> None:
        """Show the plan's subtasks, all `planned`."""
        for subtask in plan.subtasks:
            self._ensure(subtask.id, subtask.kind, subtask.agent)

    def _ensure(self, subtask_id: str, kind: str = "", agent: str = "") -> None:
        if agent:
            self.agents[subtask_id] = agent
        if subtask_id in self.statuses:
            if agent:
                self.update_cell(subtask_id, "agent", agent)
            return
        self.statuses[subtask_id] = "planned"
        self.details[subtask_id] = []
        self.add_row(subtask_id, _status("planned"), agent, "", kind, "", key=subtask_id)

    def set_status(self, subtask_id: str, status: str, detail: str = "", agent: str = "") -> None:
        """Move a subtask to `status`; a non-empty `detail` replaces the detail column."""
        self._ensure(subtask_id, agent=agent)
        self.statuses[subtask_id] = status
        self.update_cell(subtask_id, "status", _status(status))
        if detail:
            self.note(subtask_id, detail)
            self.update_cell(subtask_id, "detail", detail.splitlines()[0][:80])

    def note(self, subtask_id: str, text: str) -> None:
        """Add a note (shown when the subtask is selected); a repeat of the last one is dropped."""
        self._ensure(subtask_id)
        notes = self.details[subtask_id]
        if not notes or notes[-1] != text:
            notes.append(text)

    def set_model(self, subtask_id: str, model: str) -> None:
        """Show the model working on (or whose edit passed for) a subtask."""
        self._ensure(subtask_id)
        self.models[subtask_id] = model
        self.update_cell(subtask_id, "model", model)

    def running(self, agent: str) -> list[str]:
        """Ids of the subtasks `agent` is working on now."""
        return [
            sid
            for sid, status in self.statuses.items()
            if status in ("running", "checking") and self.agents.get(sid) == agent
        ]

    @property
    def selected_id(self) -> str | None:
        """Id of the subtask under the cursor."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)


def _status(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))
