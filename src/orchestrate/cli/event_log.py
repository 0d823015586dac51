"""`--log FILE`: every event of a run as one JSON line, for tools and post-mortems."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from orchestrate.events import Event
from orchestrate.exceptions import ConfigError
from orchestrate.privacy.masking import mask_keys


class JsonLog:
    """An event-bus subscriber writing `Event.model_dump_json()` lines, flushed as they happen.

    `EVENT_ADAPTER.validate_json(line)` reads each line back into its event.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"--log {path}"
        """How the event bus names this listener if it fails."""
        self._file: IO[str] | None = None

    def __enter__(self) -> Self:
        try:
            self._file = self.path.open("w", encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"--log: cannot write {self.path} ({error.strerror})") from None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __call__(self, event: Event) -> None:
        if self._file is None:
            return
        try:
            # Provider errors can echo a key back; none of ours reaches a file we write.
            self._file.write(mask_keys(event.model_dump_json()) + "\n")
            self._file.flush()
        except OSError:
            # The bus reports the error and drops this log; closing would only fail the same way.
            file, self._file = self._file, None
            with contextlib.suppress(OSError):
                file.close()
            raise
