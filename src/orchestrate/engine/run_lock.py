"""One process per run: a run (and its resume) holds a lock that a second process respects.

The lock is `flock` on a small file beside the run's state. The kernel drops it when its holder
ends, however it ends (SIGKILL included), so a dead process's lock is never in the way: the next
process takes it over and is told so. The file's text names the holder (pid, host, command,
start), for the one line a second process prints when it finds the run in use. The file is
emptied on release and never deleted: deleting a lock file another process has open would let
two processes each lock a different file of the same name.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ValidationError

from orchestrate.engine.run_files import RepoFiles
from orchestrate.exceptions import RunLockedError
from orchestrate.privacy.masking import mask_keys

PROBE_GRACE_S = 1.0
"""How long `acquire` keeps trying while the lock is busy: `run_is_live` holds it for
microseconds to look, and must never make a real start fail."""
_RETRY_S = 0.02
_COMMAND_CHARS = 200


class Holder(BaseModel):
    """Who holds (or last held) a lock."""

    pid: int
    """Process id."""
    host: str
    """Machine name (a lock on a shared file system may be held elsewhere)."""
    command: str
    """The holder's command line, shortened."""
    since: float
    """Unix time it took the lock."""

    def describe(self) -> str:
        """`process 4242 on vm (orchestrate run plan.md, since 12:03:04)`."""
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"process {self.pid} on {self.host} ({self.command}, since {since})"


def _me() -> Holder:
    command = " ".join(["orchestrate", *sys.argv[1:]]) if sys.argv else "orchestrate"
    return Holder(
        pid=os.getpid(),
        host=socket.gethostname(),
        command=mask_keys(command)[:_COMMAND_CHARS],
        since=time.time(),
    )


def _read_holder(path: Path) -> Holder | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return Holder.model_validate_json(text) if text.strip() else None
    except ValidationError:
        return None  # a holder killed mid-write: the lock itself still says who is live


def _try_lock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def locked_error(what: str, holder: Holder | None) -> RunLockedError:
    """The one line a process prints when `what` is held by `holder`."""
    who = holder.describe() if holder is not None else "another process"
    return RunLockedError(
        f"{what} is in use by {who}: wait for it to finish, or stop that process "
        "and run the same command again"
    )


class RunLock:
    """An exclusive lock named `what` (`run <id>`), held in the file at `path`."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self.taken_over: Holder | None = None
        """The holder recorded by a process that ended without releasing the lock, if any."""
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise `RunLockedError` naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + PROBE_GRACE_S
        while not _try_lock(fd, fcntl.LOCK_EX):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise locked_error(self.what, _read_holder(self.path))
            time.sleep(_RETRY_S)
        self._fd = fd
        # Text left in the file means its writer never released the lock: it died holding it.
        self.taken_over = _read_holder(self.path)
        record = _me().model_dump_json().encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)

    def release(self) -> None:
        """Empty the file (a clean end) and let go of the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing drops the flock

    @contextlib.contextmanager
    def held(self) -> Iterator[RunLock]:
        """The lock, held for the block."""
        self.acquire()
        try:
            yield self
        finally:
            self.release()


def is_held(path: Path) -> bool:
    """Whether a live process holds the lock in `path` (never creates the file)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if not _try_lock(fd, fcntl.LOCK_SH):
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def holder_of(path: Path) -> Holder | None:
    """The live holder of the lock in `path`, or None when no live process holds it."""
    return _read_holder(path) if is_held(path) else None


def run_lock(repo: Path, run_id: str) -> RunLock:
    """The lock of run `run_id` in `repo` (not yet taken)."""
    return RunLock(RepoFiles.of(repo).run(run_id).lock, f"run {run_id}")


def run_is_live(repo: Path, run_id: str) -> bool:
    """Whether a live process (this one included) is carrying out run `run_id` in `repo`."""
    return is_held(RepoFiles.of(repo).run(run_id).lock)


def run_holder(repo: Path, run_id: str) -> Holder | None:
    """The live process carrying out run `run_id`, or None when none is."""
    return holder_of(RepoFiles.of(repo).run(run_id).lock)
