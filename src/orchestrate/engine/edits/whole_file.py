"""Reading whole-file replies: a path line, then a fenced block with the complete new content.

Small local models ramble around their code, so only fenced blocks count, and a block counts
only when a path names it (on the line above, or in the fence's info string). When the subtask
allows exactly one file and nothing is named, the FIRST block is taken as that file.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from orchestrate.engine.edits.markup import (
    FenceOpen,
    fence_open,
    is_fence_close,
    is_fence_line,
    normalise_newlines,
    one_trailing_newline,
    path_from_intro,
)
from orchestrate.engine.edits.model import FileEdit, ParsedEdits

NO_BLOCK = (
    "Your reply had no code block. Put the file's path on its own line, then a fenced code "
    "block (```) holding the COMPLETE new content of the file."
)
NO_PATH = (
    "Your reply had code blocks but no file path before them. Put each file's path on its own "
    "line just before its fenced code block."
)
_MARKER = re.compile(r"^\s*(?:<{5,9} ?SEARCH|>{5,9} ?REPLACE)\s*$", re.IGNORECASE)


@dataclass
class _Block:
    path: str | None
    lines: list[str]
    closed: bool


def _path_above(lines: list[str], index: int) -> str | None:
    for above in reversed(lines[:index]):
        if above.strip():
            return None if is_fence_line(above) else path_from_intro(above)
    return None


def _dedent(line: str, width: int) -> str:
    removable = len(line) - len(line.lstrip(" \t"))
    return line[min(width, removable) :]


def _body(lines: list[str], start: int, opened: FenceOpen) -> tuple[list[str], int | None]:
    """Lines inside the fence and the index of its closing line (None when never closed)."""
    for index in range(start, len(lines)):
        if is_fence_close(lines[index], opened):
            return [_dedent(line, opened.indent) for line in lines[start:index]], index
    return [_dedent(line, opened.indent) for line in lines[start:]], None


def _scan(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    index = 0
    while index < len(lines):
        opened = fence_open(lines[index])
        if opened is None:
            index += 1
            continue
        path = opened.path or _path_above(lines, index)
        body, end = _body(lines, index + 1, opened)
        blocks.append(_Block(path, body, end is not None))
        index = (len(lines) if end is None else end) + 1
    return blocks


def _only_allowed(allowed: Collection[str] | None) -> str | None:
    if allowed is None or len(allowed) != 1:
        return None
    return next(iter(allowed))


def _problem(path: str, block: _Block) -> str | None:
    if not block.closed:
        return (
            f"The code block for {path} is not closed (the reply may have been cut off). "
            "Resend the COMPLETE file and end its block with ```."
        )
    if any(_MARKER.match(line) for line in block.lines):
        return (
            f"The code block for {path} holds SEARCH/REPLACE markers. Send the COMPLETE new "
            "content of the file instead."
        )
    return None


def _chosen(blocks: list[_Block], allowed: Collection[str] | None) -> list[tuple[str, _Block]]:
    named = [(block.path, block) for block in blocks if block.path is not None]
    if named:
        return named
    only = _only_allowed(allowed)
    return [(only, blocks[0])] if only is not None else []


def parse_whole_file(text: str, allowed: Collection[str] | None = None) -> ParsedEdits:
    """Read a whole-file reply; `allowed` is the subtask's file list (enables the one-file rule)."""
    blocks = _scan(normalise_newlines(text).split("\n"))
    if not blocks:
        return ParsedEdits(error=NO_BLOCK)
    chosen = _chosen(blocks, allowed)
    if not chosen:
        return ParsedEdits(error=NO_PATH)
    edits: dict[str, FileEdit] = {}
    for path, block in chosen:
        problem = _problem(path, block)
        if problem is not None:
            return ParsedEdits(error=problem)
        # A file shown twice (often "before" then "after"): the later one wins.
        content = one_trailing_newline("\n".join(block.lines))
        edits[path] = FileEdit(path=path, content=content)
    return ParsedEdits(edits=tuple(edits.values()))
