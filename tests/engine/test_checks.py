"""Check runner: exit codes, bounded output, time limits and no orphaned processes."""

from __future__ import annotations

import asyncio
import shlex
import sys
import time
from pathlib import Path

import pytest

from orchestrate.engine.checks import OUTPUT_LIMIT, run_check, run_checks
from orchestrate.sandbox.check_env import check_environ
from orchestrate.sandbox.environments import LocalEnvironment


def here(folder: Path) -> LocalEnvironment:
    """A plain local environment in `folder`, with the checks' minimal variables."""
    return LocalEnvironment(folder, check_environ(folder, folder))


def alive(pid: int) -> bool:
    """Running and not a zombie (PID 1 in a container may never reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def wait_gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def pid_in(path: Path) -> int | None:
    text = path.read_text().strip() if path.exists() else ""
    return int(text) if text else None


async def read_pid(path: Path) -> int:
    for _ in range(100):
        if (pid := pid_in(path)) is not None:
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} was never written")


async def test_pass_and_fail(tmp_path: Path) -> None:
    (tmp_path / "marker.txt").write_text("here")
    good = await run_check("cat marker.txt; echo oops >&2; echo after", here(tmp_path), timeout=10)
    assert good.ok
    assert good.exit_code == 0
    assert good.output == "here" + "oops\nafter\n"
    assert not good.timed_out
    assert good.cut_bytes == 0

    bad = await run_check("echo failing; exit 3", here(tmp_path), timeout=10)
    assert not bad.ok
    assert bad.exit_code == 3
    assert bad.output == "failing\n"


async def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    result = await run_check(f"sleep 30 & echo $! > {pidfile}; wait", here(tmp_path), timeout=0.5)
    assert time.monotonic() - started < 5
    assert result.timed_out
    assert not result.ok
    assert result.exit_code is None
    assert await wait_gone(int(pidfile.read_text()))


async def test_plain_sleep_times_out(tmp_path: Path) -> None:
    result = await run_check("sleep 30", here(tmp_path), timeout=0.5)
    assert result.timed_out
    assert 0.5 <= result.duration_s < 5


async def test_background_leftovers_are_killed_after_success(tmp_path: Path) -> None:
    pidfile = tmp_path / "bg.pid"
    result = await run_check(f"sleep 30 & echo $! > {pidfile}; echo done", here(tmp_path), 10)
    assert result.ok
    assert result.output == "done\n"
    assert await wait_gone(int(pidfile.read_text()))


async def test_cancellation_kills_the_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "c.pid"
    task = asyncio.create_task(
        run_check(f"sleep 30 & echo $! > {pidfile}; wait", here(tmp_path), 60)
    )
    pid = await read_pid(pidfile)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(pid)


async def test_output_keeps_only_the_end(tmp_path: Path) -> None:
    script = "import sys; sys.stdout.write('x' * 20000 + 'END\\n')"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    result = await run_check(command, here(tmp_path), timeout=10)
    total = 20004
    assert result.cut_bytes == total - OUTPUT_LIMIT
    assert result.output.startswith(f"[… {total - OUTPUT_LIMIT} earlier bytes cut …]\n")
    assert result.output.endswith("xEND\n")
    assert result.output.count("x") == OUTPUT_LIMIT - 4


async def test_run_checks_stops_at_first_failure(tmp_path: Path) -> None:
    results = await run_checks(["echo one", "exit 1", "touch never"], here(tmp_path), 10)
    assert [(r.command, r.ok) for r in results] == [("echo one", True), ("exit 1", False)]
    assert not (tmp_path / "never").exists()


async def test_bad_timeout(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        await run_check("true", here(tmp_path), 0)
