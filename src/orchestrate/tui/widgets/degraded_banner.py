"""The banner that says, while it happens, that an agent is answered below what was set up.

Hidden until the first `RoleDegraded` of its run; then one line per agent and model (see
`routing.degradation` for what counts).
"""

from __future__ import annotations

from textual.widgets import Static

from orchestrate.events import RoleDegraded


class DegradedBanner(Static):
    """Every degradation of the run so far, one line each, in the warning colour."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="degraded")
        self.lines: list[str] = []
        """What the banner says, one degradation a line."""

    def on_mount(self) -> None:
        self.display = bool(self.lines)

    def add(self, event: RoleDegraded) -> None:
        """Say one more degradation (a repeat is left out)."""
        line = f"⚠ degraded: {event.line()}"
        if line in self.lines:
            return
        self.lines.append(line)
        self.update("\n".join(self.lines))
        self.display = True
