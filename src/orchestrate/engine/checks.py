"""Run a task's check commands (tests, linters) in the worktree, with a hard time limit.

Each command runs in a shell, inside the run's check environment (a sandbox where one is
available, always with a minimal set of variables), in its own process group; when it ends,
times out or the caller is cancelled, the whole group is killed so no test runner or server
outlives its check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterable

from pydantic import BaseModel

from orchestrate.privacy.masking import mask_keys
from orchestrate.sandbox.environments import CheckEnvironment

OUTPUT_LIMIT = 8 * 1024
"""Bytes of output kept per check: the end, where failures are reported."""
TERM_GRACE_S = 1.0
"""After SIGTERM on timeout, how long a check may take to exit before SIGKILL."""
_DRAIN_S = 2.0


class CheckResult(BaseModel):
    """The outcome of one check command."""

    command: str
    """The shell command as given."""
    ok: bool
    """Exited 0 within the time limit."""
    exit_code: int | None
    """The shell's exit status; negative for a signal; None if it never finished."""
    output: str
    """Stdout and stderr interleaved, only the last `OUTPUT_LIMIT` bytes, with a cut note."""
    cut_bytes: int = 0
    """How many bytes of output were dropped from the start."""
    duration_s: float
    """Wall time from start to exit or kill."""
    timed_out: bool = False
    """The time limit ran out and the process group was killed."""


class _Tail:
    """Keeps the last `limit` bytes of a stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.cut = 0

    def feed(self, chunk: bytes) -> None:
        self.data += chunk
        excess = len(self.data) - self.limit
        if excess > 0:
            del self.data[:excess]
            self.cut += excess

    def text(self) -> str:
        body = bytes(self.data).decode("utf-8", errors="replace")
        if not self.cut:
            return body
        return f"[… {self.cut} earlier bytes cut …]\n{body}"


async def _pump(stream: asyncio.StreamReader, tail: _Tail) -> None:
    while chunk := await stream.read(65536):
        tail.feed(chunk)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group outlives its leader while any member runs; once all are gone this is a no-op.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _exited(proc: asyncio.subprocess.Process, within: float) -> bool:
    """Whether the shell exits within `within` seconds.

    Polled, because `Process.wait()` also waits for every holder of the output pipe to close it,
    and a backgrounded child of a finished shell may hold it for ever.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    delay = 0.005
    while proc.returncode is None:
        left = deadline - loop.time()
        if left <= 0:
            return False
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 2, 0.1)
    return True


async def _stop(proc: asyncio.subprocess.Process, graceful: bool) -> None:
    if graceful and proc.returncode is None:
        _signal_group(proc.pid, signal.SIGTERM)
        await _exited(proc, TERM_GRACE_S)
    # Also sweeps background children left behind by a shell that already exited.
    _signal_group(proc.pid, signal.SIGKILL)
    await _exited(proc, _DRAIN_S)


# The time limit is ours, not a cancel scope: on expiry the group is killed and a result returned.
async def run_check(
    command: str,
    environment: CheckEnvironment,
    timeout: float,  # noqa: ASYNC109
) -> CheckResult:
    """Run one shell command in `environment`, with its variables and nothing else."""
    if timeout <= 0:
        raise ValueError(f"check timeout must be positive, got {timeout}")
    started = time.monotonic()
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *environment.argv(command),
            cwd=environment.cwd,
            env=environment.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    )
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # Cancelled while the shell was starting: it may already run, so finish and kill it.
        _signal_group((await spawn).pid, signal.SIGKILL)
        raise
    stdout = proc.stdout
    assert stdout is not None  # PIPE was requested just above
    tail = _Tail(OUTPUT_LIMIT)
    reader = asyncio.create_task(_pump(stdout, tail))
    timed_out = False
    try:
        timed_out = not await _exited(proc, timeout)
    finally:
        # Also runs on cancellation: the group must die whatever happens to the caller.
        await asyncio.shield(_stop(proc, graceful=timed_out))
        with contextlib.suppress(TimeoutError):
            # A member that escaped the group (setsid) could hold the pipe open forever.
            await asyncio.wait_for(reader, _DRAIN_S)
    code = None if timed_out else proc.returncode
    return CheckResult(
        command=command,
        ok=code == 0,
        exit_code=code,
        # Masked where it is made: the run state, stderr, the report and the next model's prompt
        # all take the output from here (a check can print a key from a file it reads).
        output=mask_keys(tail.text()),
        cut_bytes=tail.cut,
        duration_s=round(time.monotonic() - started, 3),
        timed_out=timed_out,
    )


async def run_checks(
    commands: Iterable[str],
    environment: CheckEnvironment,
    timeout: float,  # noqa: ASYNC109
) -> list[CheckResult]:
    """Run commands in order, stopping after the first that fails; `timeout` is per command."""
    results: list[CheckResult] = []
    for command in commands:
        result = await run_check(command, environment, timeout)
        results.append(result)
        if not result.ok:
            break
    return results
