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

    def compose(self) -> ComposeResult:
        yield Static(self.model_line, classes="agent-model")
        yield Log(max_lines=5000, auto_scroll=True)

    def write(self, text: str) -> None:
        """Append streamed text."""
        self.query_one(Log).write(text)

    def set_model(self, line: str) -> None:
        """Replace the header line."""
        self.model_line = line
        self.query_one(".agent-model", Static).update(line)

    @property
    def text(self) -> str:
        """Everything written so far."""
        return "\n".join(self.query_one(Log).lines)
