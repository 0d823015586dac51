"""Per-agent log panes: what each agent's model is writing, and which model that is."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, Static


class AgentLog(Vertical):
    """A header naming the model now answering for the agent, over the streamed text."""

    def __init__(self, agent: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="agent-log")
        self.agent = agent
        self.model_line = f"{agent}: idle"
        """What the header says: the model in use, and any fallback taken."""
        self._pending: list[str] | None = []
        """Text written before the pane was mounted (a pane added mid-run); None once it is."""

    def compose(self) -> ComposeResult:
        yield Static(self.model_line, classes="agent-model")
        yield Log(max_lines=5000, auto_scroll=True)

    def on_mount(self) -> None:
        log = self.query_one(Log)
        for text in self._pending or []:
            log.write(text)
        self._pending = None
        self.set_model(self.model_line)

    def write(self, text: str) -> None:
        """Append streamed text."""
        if self._pending is not None:
            self._pending.append(text)
            return
        self.query_one(Log).write(text)

    def set_model(self, line: str) -> None:
        """Replace the header line."""
        self.model_line = line
        if self._pending is None:
            self.query_one(".agent-model", Static).update(line)

    @property
    def text(self) -> str:
        """Everything written so far."""
        if self._pending is not None:
            return "".join(self._pending)
        return "\n".join(self.query_one(Log).lines)
