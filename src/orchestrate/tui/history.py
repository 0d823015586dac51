"""Task input history: newest last, kept in `.orchestrate/tui-history.json` of the repo."""

from __future__ import annotations

import json
from pathlib import Path

MAX_ENTRIES = 100


class TaskHistory:
    """Past task texts with a browsing cursor, like a shell's history."""

    def __init__(self, path: Path | None, entries: list[str] | None = None) -> None:
        self.path = path
        self.entries: list[str] = list(entries or [])
        if path is not None and entries is None and path.is_file():
            self.entries = _read(path)
        self._cursor = len(self.entries)

    def add(self, text: str) -> None:
        """Remember `text` (moved to the end if already there) and save."""
        text = text.strip()
        if not text:
            return
        if text in self.entries:
            self.entries.remove(text)
        self.entries = [*self.entries, text][-MAX_ENTRIES:]
        self._cursor = len(self.entries)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.entries, indent=1))

    def previous(self) -> str | None:
        """The entry before the cursor, or None at the oldest."""
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.entries[self._cursor]

    def next(self) -> str:
        """The entry after the cursor; past the newest, an empty text."""
        self._cursor = min(self._cursor + 1, len(self.entries))
        return self.entries[self._cursor] if self._cursor < len(self.entries) else ""


def _read(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        # A damaged history is not worth stopping for: start a new one.
        return []
    return [item for item in data if isinstance(item, str)] if isinstance(data, list) else []
