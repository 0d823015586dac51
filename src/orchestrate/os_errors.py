"""Storage failures as one line with the advice that fits: a full disk, a read-only file, a
missing permission, a path that is not what it should be, a file git keeps locked.

The OS says what went wrong in `errno`; git says it in its stderr. Anything not recognised here
is not a storage problem and is left as it is (a bug still shows as one).
"""

from __future__ import annotations

import errno
import re

import git

from orchestrate.exceptions import StorageError

_GIT_WRITE = re.compile(
    r"unable to (create|write)|could not write|cannot lock ref|failed to write|"
    r"insufficient permission",
    re.IGNORECASE,
)
_GIT_LOCK = re.compile(r"Unable to create '([^']+\.lock)': File exists")
_GIT_ERRNO = (
    ("No space left on device", errno.ENOSPC),
    ("Disk quota exceeded", errno.EDQUOT),
    ("File too large", errno.EFBIG),
    ("Read-only file system", errno.EROFS),
    ("Permission denied", errno.EACCES),
)


def _advice(code: int, what: str) -> str | None:
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left to write {what}: free some disk space"
    if code == errno.EFBIG:
        return (
            f"{what} cannot grow: the disk or a file-size limit (ulimit -f) is full; "
            f"free some space or raise the limit"
        )
    if code == errno.EROFS:
        return f"{what} is on a read-only file system: work in a writable copy"
    if code in (errno.EACCES, errno.EPERM):
        return f"no permission to write {what}: make it writable (chmod/chown)"
    if code == errno.ENOTDIR:
        return f"{what}: part of that path is a file, not a folder: move that file aside"
    if code == errno.EISDIR:
        return f"{what} is a folder where a file should be: move it aside"
    return None


def os_storage_error(error: OSError, what: str | None = None) -> StorageError | None:
    """`error` as a one-line `StorageError` about `what` (default: the file it names), or None
    when it is not a storage problem."""
    if error.errno is None:
        return None
    where = what or (str(error.filename) if error.filename is not None else "a file")
    advice = _advice(error.errno, where)
    return None if advice is None else StorageError(advice)


def git_storage_error(error: git.GitCommandError) -> StorageError | None:
    """A git command that failed for lack of room, permission, or a lock file left behind."""
    stderr = str(error.stderr)
    lock = _GIT_LOCK.search(stderr)
    if lock is not None:
        return StorageError(
            f"git cannot take {lock.group(1)}: another git process is working there, or one "
            f"crashed; once none is running, delete that file"
        )
    command = " ".join(str(part) for part in error.command[:2])
    for said, code in _GIT_ERRNO:
        if said in stderr:
            return StorageError(_advice(code, f"what `{command}` writes") or said)
    if _GIT_WRITE.search(stderr):
        # Git does not always say why (e.g. "unable to create directory for <ref>").
        return StorageError(
            f"`{command}` could not write in the repository ({_git_says(stderr)}): make sure "
            "the repository is writable and its disk has room"
        )
    return None


def _git_says(stderr: str) -> str:
    """Git's own `fatal:`/`error:` line, without GitPython's wrapping."""
    for line in stderr.splitlines():
        text = line.strip().removeprefix("stderr: ").strip("'")
        if text.startswith(("fatal: ", "error: ")):
            return text
    return stderr.strip().splitlines()[0] if stderr.strip() else "no message"


def storage_error(error: BaseException) -> StorageError | None:
    """Any error as a `StorageError` if it is a storage problem (None otherwise)."""
    if isinstance(error, StorageError):
        return error
    if isinstance(error, OSError):
        return os_storage_error(error)
    if isinstance(error, git.GitCommandError):
        return git_storage_error(error)
    return None
