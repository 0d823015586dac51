"""Files that are private by name: whatever they hold, requests that concern them stay local."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from orchestrate.config.schema import DEFAULT_PRIVATE_PATHS


class PrivatePaths:
    """Matches repository paths against private globs (case-insensitively: `.ENV` is `.env`)."""

    def __init__(self, globs: Sequence[str] = DEFAULT_PRIVATE_PATHS) -> None:
        # fnmatch's `*` already crosses `/`, so `**` needs no special meaning.
        self.globs = tuple(glob.lower().replace("**", "*") for glob in globs)
        self._written = tuple(globs)

    def match(self, path: str) -> str | None:
        """The glob (as configured) that makes `path` private, or None."""
        parts = PurePosixPath(path.replace("\\", "/").lower()).parts
        parts = tuple(part for part in parts if part not in ("/", "."))
        tails = ["/".join(parts[index:]) for index in range(len(parts))]
        for glob, written in zip(self.globs, self._written, strict=True):
            if any(fnmatchcase(tail, glob) for tail in tails):
                return written
        return None
