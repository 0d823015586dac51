"""Turning parsed edits into file changes, all checked before anything is written.

Every path is validated and every new content computed in memory first; a refusal (unsafe path,
file not allowed, oversized content, unreadable file) raises `EditRefusedError` before a single
byte is written. Then all changed files are written together by `write_atomically`.

SEARCH/REPLACE blocks that do not match do NOT stop the other blocks: the blocks that matched are
written (also in a file where another block failed), and the failures come back in
`ApplyResult.failed`. The retry round then asks the model for only the failed blocks, against
files that already hold the good ones (see `mismatch_feedback`).
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrate.engine.edits.model import (
    AppliedBlock,
    ApplyResult,
    BlockMismatch,
    FileEdit,
    SearchReplace,
)
from orchestrate.engine.edits.paths import MAX_FILE_BYTES, check_content_size, resolve_edit_path
from orchestrate.engine.edits.search_replace import apply_block
from orchestrate.engine.edits.writer import PendingWrite, write_atomically
from orchestrate.exceptions import EditRefusedError


@dataclass
class _File:
    """One file's bytes on disk and its content as edited so far (None: does not exist)."""

    target: Path
    label: str
    original: bytes | None
    mode: int | None
    text: str | None
    crlf: bool


def _load(root: Path, target: Path, raw: str) -> _File:
    label = target.relative_to(root.resolve()).as_posix()
    try:
        original = target.read_bytes()
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return _File(target, label, None, None, None, crlf=False)
    except OSError as exc:
        raise EditRefusedError(
            f"edit to {raw!r} refused: the file cannot be read ({exc.strerror})"
        ) from exc
    try:
        text = original.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditRefusedError(
            f"edit to {raw!r} refused: the file is not UTF-8 text; change it by hand"
        ) from exc
    # Edits are matched and written with LF; a CRLF file gets its CRLF back on the way out.
    crlf = "\r\n" in text
    return _File(target, label, original, mode, text.replace("\r\n", "\n"), crlf)


def _pending(file: _File, max_bytes: int) -> PendingWrite | None:
    if file.text is None:
        return None
    text = file.text.replace("\n", "\r\n") if file.crlf else file.text
    content = text.encode("utf-8")
    if content == file.original:
        return None
    check_content_size(file.label, content, max_bytes)
    return PendingWrite(file.target, file.label, content, file.original, file.mode)


def apply_edits(
    root: Path,
    edits: Sequence[FileEdit | SearchReplace],
    allowed: Collection[str] | None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
) -> ApplyResult:
    """Apply `edits` under `root`, limited to `allowed` files (None: any file in the repository).

    Raises `EditRefusedError` (nothing written) for any unsafe or unwritable edit.
    """
    files: dict[Path, _File] = {}
    applied: list[AppliedBlock] = []
    failed: list[BlockMismatch] = []
    for edit in edits:
        target = resolve_edit_path(root, edit.path, allowed)
        if target not in files:
            files[target] = _load(root, target, edit.path)
        file = files[target]
        if isinstance(edit, FileEdit):
            file.text = edit.content.replace("\r\n", "\n")
            continue
        outcome = apply_block(file.text, edit)
        if isinstance(outcome, BlockMismatch):
            failed.append(outcome)
        else:
            file.text = outcome[0]
            applied.append(outcome[1])
    writes = [write for file in files.values() if (write := _pending(file, max_bytes))]
    write_atomically(writes)
    return ApplyResult(
        changed=tuple(write.label for write in writes),
        applied=tuple(applied),
        failed=tuple(failed),
    )


async def apply_edits_async(
    root: Path,
    edits: Sequence[FileEdit | SearchReplace],
    allowed: Collection[str] | None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
) -> ApplyResult:
    """`apply_edits` in a worker thread, so the event loop keeps serving other subtasks."""
    return await asyncio.to_thread(apply_edits, root, edits, allowed, max_bytes=max_bytes)
