"""Split a unified git diff into files and numbered lines, for the per-file diff view."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$")
LineKind = Literal["hunk", "add", "remove", "context", "note"]


@dataclass(frozen=True)
class DiffLine:
    """One line of a file's diff, with its line numbers in the old and new file."""

    kind: LineKind
    text: str
    old: int | None = None
    new: int | None = None


@dataclass
class FileDiff:
    """The diff of one file."""

    path: str
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(line.kind == "add" for line in self.lines)

    @property
    def removed(self) -> int:
        return sum(line.kind == "remove" for line in self.lines)


def _path_of(header: str) -> str:
    # `diff --git a/x b/x`: the new side's name; quoted or spaced names fall back to the tail.
    tail = header.removeprefix("diff --git ").split(" b/", 1)
    return tail[1] if len(tail) == 2 else tail[0]


class _Parser:
    def __init__(self) -> None:
        self.files: list[FileDiff] = []
        self.old = self.new = 0
        self.in_header = False

    def feed(self, raw: str) -> None:
        if raw.startswith("diff --git "):
            self.files.append(FileDiff(_path_of(raw)))
            self.in_header = True
            return
        if not self.files:
            return
        current = self.files[-1]
        hunk = _HUNK.match(raw)
        if hunk:
            self.old, self.new = int(hunk[1]), int(hunk[2])
            self.in_header = False
            current.lines.append(DiffLine("hunk", raw))
        elif self.in_header:
            if raw.startswith(("new file", "deleted file", "Binary files", "rename ")):
                current.lines.append(DiffLine("note", raw))
        elif raw.startswith("+"):
            current.lines.append(DiffLine("add", raw[1:], new=self.new))
            self.new += 1
        elif raw.startswith("-"):
            current.lines.append(DiffLine("remove", raw[1:], old=self.old))
            self.old += 1
        elif raw.startswith("\\"):
            current.lines.append(DiffLine("note", raw))
        else:
            current.lines.append(DiffLine("context", raw[1:], old=self.old, new=self.new))
            self.old += 1
            self.new += 1


def parse_diff(text: str) -> list[FileDiff]:
    """The files of a `git diff` output, in its order."""
    parser = _Parser()
    for raw in text.splitlines():
        parser.feed(raw)
    return parser.files
