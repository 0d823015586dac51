"""The run lock: one process per run, a second told who holds it, a dead holder's lock taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrate.engine.run_lock import RunLock, holder_of, is_held
from orchestrate.exceptions import RunLockedError

HOLD_AND_WAIT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from orchestrate.engine.run_lock import RunLock
    lock = RunLock(Path(sys.argv[1]), "run r1")
    lock.acquire()
    print("held", flush=True)
    time.sleep(120)
    """
)


def holding_process(path: Path) -> subprocess.Popen[str]:
    """A real second process holding the lock at `path` (it says `held` once it does)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "held\n"
    return process


def test_a_second_process_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    path = tmp_path / "r1.lock"
    other = holding_process(path)
    try:
        with pytest.raises(RunLockedError) as refused:
            RunLock(path, "run r1").acquire()
        assert is_held(path)
        holder = holder_of(path)
        assert holder is not None and holder.pid == other.pid
    finally:
        other.kill()
        other.wait()
    message = str(refused.value)
    assert message.startswith(f"run r1 is in use by process {other.pid} on ")
    assert message.endswith(
        "wait for it to finish, or stop that process and run the same command again"
    )
    assert "\n" not in message


def test_a_lock_left_by_a_killed_process_is_taken_over_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "r1.lock"
    dead = holding_process(path)
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait()
    assert not is_held(path)

    lock = RunLock(path, "run r1")
    with lock.held():
        assert lock.taken_over is not None and lock.taken_over.pid == dead.pid
        holder = holder_of(path)
        assert holder is not None and holder.pid == os.getpid()
    # Released cleanly: the next process has nothing to take over.
    again = RunLock(path, "run r1")
    with again.held():
        assert again.taken_over is None


def test_the_same_process_cannot_hold_a_run_twice(tmp_path: Path) -> None:
    path = tmp_path / "r1.lock"
    with RunLock(path, "run r1").held():
        assert is_held(path)
        with pytest.raises(RunLockedError, match=f"process {os.getpid()} "):
            RunLock(path, "run r1").acquire()
    assert not is_held(path)


def test_looking_never_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "never.lock"
    assert not is_held(path) and holder_of(path) is None
    assert not path.exists()
