"""What a SQLite failure of the ledger means for the user, in one line with the fix.

SQLite names each failure (`sqlite_errorname`, https://www.sqlite.org/rescode.html): a full
disk, a read-only file, a lock held by another process, a file that is not a database. Each has
its own advice; "move it aside" is only ever said of a file that really is not a ledger.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from orchestrate.exceptions import LedgerError, StorageError

_NOT_A_LEDGER = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def _name(error: sqlite3.Error) -> str:
    # The primary result code's name: SQLITE_IOERR_WRITE -> SQLITE_IOERR.
    name = str(getattr(error, "sqlite_errorname", "") or "")
    return "_".join(name.split("_")[:2])


def ledger_error(path: Path | None, error: sqlite3.Error) -> LedgerError | StorageError:
    """The one-line error for `error` on the ledger at `path`."""
    name = _name(error)
    if name in _NOT_A_LEDGER:
        return LedgerError(
            f"{path} is not a usable ledger ({error}); move it aside and a new one is made"
        )
    if name in ("SQLITE_FULL", "SQLITE_IOERR"):
        # SQLite reports a write the OS refused (no space, a file-size limit) as FULL or IOERR.
        return StorageError(
            f"cannot write the ledger {path} ({error}): the disk (or a file-size limit) is "
            f"likely full; free some space"
        )
    if name == "SQLITE_READONLY":
        return StorageError(
            f"the ledger {path} is read-only: make it (and its folder) writable, or pass "
            f"--ledger with a writable file"
        )
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return StorageError(
            f"the ledger {path} is locked by another process: wait for it to finish, or pass "
            f"--ledger with another file"
        )
    if name in ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"):
        return StorageError(_cannot_open(path, error))
    return StorageError(f"the ledger {path} failed ({error}); pass --ledger with another file")


def _cannot_open(path: Path | None, error: sqlite3.Error) -> str:
    if path is not None and path.is_dir():
        return f"the ledger path {path} is a folder, not a file: pass --ledger with a file path"
    return (
        f"cannot open the ledger {path} ({error}): make its folder writable, or pass --ledger "
        f"with a writable file"
    )
