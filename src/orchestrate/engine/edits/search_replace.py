"""SEARCH/REPLACE replies (aider style): reading the blocks, and placing one block in a file.

A reply names a file on its own line, then gives blocks:

    <<<<<<< SEARCH
    old lines
    =======
    new lines
    >>>>>>> REPLACE

inside or outside a code fence. A block with no path line above it belongs to the previous
block's file (or to the subtask's only file). An empty SEARCH creates a file that does not exist
yet. A SEARCH that matches in more than one place is refused as ambiguous, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from orchestrate.engine.edits.fuzzy import closest_lines, find_matches
from orchestrate.engine.edits.markup import (
    fence_open,
    join_lines,
    normalise_newlines,
    one_trailing_newline,
    path_from_intro,
    split_lines,
)
from orchestrate.engine.edits.model import (
    AppliedBlock,
    BlockMismatch,
    ParsedEdits,
    SearchReplace,
)

_SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\s*$", re.IGNORECASE)
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9} ?REPLACE\s*$", re.IGNORECASE)
_MARKERS = (_SEARCH, _DIVIDER, _REPLACE)

NO_BLOCKS = (
    "Your reply had no SEARCH/REPLACE blocks. Put the file's path on its own line, then "
    "<<<<<<< SEARCH, the exact lines to change, =======, the new lines, >>>>>>> REPLACE."
)


def _path_above(lines: list[str], index: int) -> str | None:
    for above in reversed(lines[:index]):
        if not above.strip():
            continue
        opened = fence_open(above)
        if opened is not None:
            if opened.path is not None:
                return opened.path
            continue
        if _REPLACE.match(above):
            return None
        return path_from_intro(above)
    return None


def _next_marker(lines: list[str], start: int, wanted: re.Pattern[str]) -> int | None:
    """Index of the next `wanted` marker, or None if another marker (or the end) comes first."""
    for index in range(start, len(lines)):
        if wanted.match(lines[index]):
            return index
        if any(marker.match(lines[index]) for marker in _MARKERS):
            return None
    return None


def _only_allowed(allowed: Collection[str] | None) -> str | None:
    if allowed is None or len(allowed) != 1:
        return None
    return next(iter(allowed))


def _incomplete(number: int, path: str) -> ParsedEdits:
    return ParsedEdits(
        error=(
            f"Block {number} (for {path}) is incomplete: each block needs <<<<<<< SEARCH, "
            "=======, and >>>>>>> REPLACE lines, in that order. Resend it whole."
        )
    )


def parse_search_replace(text: str, allowed: Collection[str] | None = None) -> ParsedEdits:
    """Read the SEARCH/REPLACE blocks of a reply; `allowed` is the subtask's file list."""
    lines = normalise_newlines(text).split("\n")
    blocks: list[SearchReplace] = []
    current = _only_allowed(allowed)
    index = 0
    while index < len(lines):
        if not _SEARCH.match(lines[index]):
            index += 1
            continue
        number = len(blocks) + 1
        path = _path_above(lines, index) or current
        if path is None:
            return ParsedEdits(
                error=f"Block {number} has no file path. Put the path on its own line just "
                "before <<<<<<< SEARCH."
            )
        divider = _next_marker(lines, index + 1, _DIVIDER)
        end = None if divider is None else _next_marker(lines, divider + 1, _REPLACE)
        if divider is None or end is None:
            return _incomplete(number, path)
        search = "\n".join(lines[index + 1 : divider])
        replace = "\n".join(lines[divider + 1 : end])
        blocks.append(SearchReplace(path=path, search=search, replace=replace, index=number))
        current, index = path, end + 1
    return ParsedEdits(edits=tuple(blocks)) if blocks else ParsedEdits(error=NO_BLOCKS)


def _create(text: str | None, block: SearchReplace) -> tuple[str, AppliedBlock] | BlockMismatch:
    if text is None or not text.strip():
        content = one_trailing_newline(block.replace)
        return content, AppliedBlock(block=block, match="create", line=1)
    return BlockMismatch(
        block=block,
        reason="file_exists",
        message=f"Block {block.index} has an empty SEARCH but {block.path} already exists; "
        "copy the lines to change into SEARCH.",
    )


def _not_found(lines: list[str], search: list[str], block: SearchReplace) -> BlockMismatch:
    snippet, line = closest_lines(lines, search)
    return BlockMismatch(
        block=block,
        reason="not_found",
        message=f"The SEARCH text of block {block.index} was not found in {block.path}.",
        closest=snippet,
        closest_line=line,
    )


def _ambiguous(starts: list[int], block: SearchReplace) -> BlockMismatch:
    where = ", ".join(str(start + 1) for start in starts)
    return BlockMismatch(
        block=block,
        reason="ambiguous",
        message=f"The SEARCH text of block {block.index} matches {len(starts)} places in "
        f"{block.path} (lines {where}); add surrounding lines so it matches exactly one.",
    )


def apply_block(text: str | None, block: SearchReplace) -> tuple[str, AppliedBlock] | BlockMismatch:
    """`text` (None: no such file) with `block` placed, or why it could not be placed."""
    if block.creates_file:
        return _create(text, block)
    if text is None:
        return BlockMismatch(
            block=block,
            reason="missing_file",
            message=f"{block.path} does not exist; to create it, send a block with an empty "
            "SEARCH.",
        )
    lines, trailing = split_lines(text)
    search = block.search.split("\n")
    found = find_matches(lines, search)
    if found is None:
        return _not_found(lines, search, block)
    if len(found.spans) > 1:
        return _ambiguous([span.start for span in found.spans], block)
    span = found.spans[0]
    replacement = [span.shift.apply(line) for line in block.replace.split("\n")]
    if not block.replace:
        replacement = []  # an empty REPLACE deletes the lines
    new_lines = lines[: span.start] + replacement + lines[span.end :]
    applied = AppliedBlock(block=block, match=found.kind, line=span.start + 1)
    return join_lines(new_lines, trailing), applied
