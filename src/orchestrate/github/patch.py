"""Unified-diff patches as GitHub sends them per file, with the new-side line numbers review
comments must name."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NUMBER_WIDTH = 4


class PatchLine(BaseModel):
    """One line of a hunk."""

    kind: Literal["add", "del", "ctx"]
    """Added, deleted, or unchanged context."""
    text: str
    """The line without its diff prefix."""
    old_line: int | None
    """Line number in the base file; None for added lines."""
    new_line: int | None
    """Line number in the head file; None for deleted lines."""


class Hunk(BaseModel):
    """One `@@ ... @@` section of a patch."""

    header: str
    """The `@@` line as sent (its trailing section name is untrusted text)."""
    new_start: int
    """First new-side line the hunk covers."""
    lines: list[PatchLine]
    """The hunk's lines in order."""

    def new_lines(self) -> list[int]:
        """New-side line numbers of the hunk's added and context lines, in order."""
        return [line.new_line for line in self.lines if line.new_line is not None]


class FilePatch(BaseModel):
    """One changed file of a pull request or comparison."""

    path: str
    """Path in the head commit."""
    status: str
    """GitHub's file status: added, modified, removed, renamed, ..."""
    additions: int
    """Lines added, as GitHub counts them."""
    deletions: int
    """Lines deleted, as GitHub counts them."""
    hunks: list[Hunk]
    """Parsed hunks; empty when there is no patch."""
    patch: str | None
    """The raw patch; None when binary or too large (GitHub omits it)."""

    def commentable_lines(self) -> set[int]:
        """New-side line numbers of add/ctx lines in hunks: the only lines a comment may name."""
        return {n for hunk in self.hunks for n in hunk.new_lines()}

    def numbered(self) -> str:
        """Hunk-by-hunk rendering with new-side line numbers, for models to cite lines by."""
        blocks = []
        for hunk in self.hunks:
            rows = [hunk.header, *(_render(line) for line in hunk.lines)]
            blocks.append("\n".join(rows))
        return "\n".join(blocks)


def _render(line: PatchLine) -> str:
    number = "" if line.new_line is None else str(line.new_line)
    mark = {"add": "+", "del": "-", "ctx": " "}[line.kind]
    return f"{number:>{_NUMBER_WIDTH}} {mark} {line.text}"


def parse_patch(
    path: str, status: str, patch: str | None, additions: int = 0, deletions: int = 0
) -> FilePatch:
    """Parse one file's patch; text before the first hunk header and `\\ No newline` notes are dropped."""
    hunks: list[Hunk] = []
    if patch:
        hunks = _parse_hunks(patch)
    return FilePatch(
        path=path,
        status=status,
        additions=additions,
        deletions=deletions,
        hunks=hunks,
        patch=patch,
    )


def _parse_hunks(patch: str) -> list[Hunk]:
    hunks: list[Hunk] = []
    old = new = old_left = new_left = 0
    for raw in patch.split("\n"):
        match = _HUNK.match(raw)
        if match:
            old, new = int(match.group(1)), int(match.group(3))
            old_left, new_left = _count(match.group(2)), _count(match.group(4))
            hunks.append(Hunk(header=raw, new_start=new, lines=[]))
            continue
        line = _line(raw, old, new)
        # The header's counts bound the hunk: anything past them (a final empty string, stray
        # text) is not a line of the file.
        if not hunks or line is None or not _fits(line, old_left, new_left):
            continue
        hunks[-1].lines.append(line)
        if line.old_line is not None:
            old, old_left = old + 1, old_left - 1
        if line.new_line is not None:
            new, new_left = new + 1, new_left - 1
    return hunks


def _count(group: str | None) -> int:
    return 1 if group is None else int(group)


def _fits(line: PatchLine, old_left: int, new_left: int) -> bool:
    needs_old = line.old_line is not None
    needs_new = line.new_line is not None
    return (not needs_old or old_left > 0) and (not needs_new or new_left > 0)


def _line(raw: str, old: int, new: int) -> PatchLine | None:
    prefix, text = raw[:1], raw[1:]
    if prefix == "+":
        return PatchLine(kind="add", text=text, old_line=None, new_line=new)
    if prefix == "-":
        return PatchLine(kind="del", text=text, old_line=old, new_line=None)
    if prefix in (" ", ""):
        # Some tools strip the lone space of a blank context line; it is still context.
        return PatchLine(kind="ctx", text=text, old_line=old, new_line=new)
    return None  # `\ No newline at end of file` and anything else that is not a line
