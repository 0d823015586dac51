"""Writing several files all-or-nothing: stage every temp file, then swap them all in.

Each new content goes to a temp file in its target's directory (so `os.replace` is an atomic
rename), with the old file's mode. Only when every temp file is written are they renamed over
their targets; if a rename fails, the files already swapped get their old bytes back, new files
and new directories are removed, and the caller hears `EditRefusedError`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrate.exceptions import EditRefusedError


@dataclass(frozen=True)
class PendingWrite:
    """New bytes for one file, and what to restore if the batch fails."""

    target: Path
    label: str
    content: bytes
    original: bytes | None
    mode: int | None


@dataclass(frozen=True)
class _Staged:
    write: PendingWrite
    temp: Path


def _missing_dirs(directory: Path) -> list[Path]:
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    return missing[::-1]


def _stage(target: Path, content: bytes, mode: int | None) -> Path:
    # A short fixed-length name: the target's own name may already be at the length limit.
    temp = target.with_name(f".orchestrate-{secrets.token_hex(6)}.tmp")
    # 0o666 lets the umask decide a new file's mode, as any editor would.
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _discard(staged: Sequence[_Staged], made: list[Path]) -> None:
    for item in staged:
        item.temp.unlink(missing_ok=True)
    for directory in reversed(made):
        with contextlib.suppress(OSError):  # not empty: something else lives there now
            directory.rmdir()


def _undo(done: Sequence[_Staged]) -> list[str]:
    """Put back the old bytes of files already swapped; the labels that could not be restored."""
    lost = []
    for item in reversed(done):
        write = item.write
        try:
            if write.original is None:
                write.target.unlink(missing_ok=True)
            else:
                os.replace(_stage(write.target, write.original, write.mode), write.target)
        except OSError:
            lost.append(write.label)
    return lost


def _failure(label: str, exc: OSError, lost: list[str]) -> EditRefusedError:
    reason = exc.strerror or str(exc)
    if lost:
        return EditRefusedError(
            f"edit to {label!r} could not be written ({reason}); these files could not be "
            f"restored, check them: {', '.join(lost)}"
        )
    return EditRefusedError(f"edit to {label!r} could not be written ({reason}); no file changed")


def _stage_all(writes: Sequence[PendingWrite], made: list[Path]) -> list[_Staged]:
    staged: list[_Staged] = []
    for write in writes:
        try:
            for directory in _missing_dirs(write.target.parent):
                directory.mkdir()
                made.append(directory)
            staged.append(_Staged(write, _stage(write.target, write.content, write.mode)))
        except OSError as exc:
            _discard(staged, made)
            raise _failure(write.label, exc, []) from exc
    return staged


def write_atomically(writes: Sequence[PendingWrite]) -> None:
    """Write every file in `writes`, or none of them (`EditRefusedError` when one fails)."""
    made: list[Path] = []
    staged = _stage_all(writes, made)
    for position, item in enumerate(staged):
        try:
            os.replace(item.temp, item.write.target)
        except OSError as exc:
            lost = _undo(staged[:position])
            _discard(staged[position:], made)
            raise _failure(item.write.label, exc, lost) from exc
