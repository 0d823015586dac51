"""Storage failures end a real `orchestrate` process with one line and the fix, never "a bug":
a read-only repository or ledger, a ledger path that is a folder, a ledger another process
has locked. (A full disk: tests/e2e/test_disk_full.py.)"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.e2e.test_run_e2e import PLAN_MD, repo

from orchestrate.ledger.store import Ledger

__all__ = ["repo"]  # fixture, imported to be found by pytest


def orchestrate(
    cwd: Path, *args: str, read_only: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`orchestrate ARGS`, with `read_only` (and all under it) unwritable for that process."""
    command = [sys.executable, "-m", "orchestrate", *args]
    if read_only is not None and os.geteuid() == 0:
        # Root writes through file modes: a read-only bind mount in a private mount namespace
        # is what stops it (util-linux `unshare`; the mount is gone when the process ends).
        if shutil.which("unshare") is None:
            pytest.skip("running as root without `unshare`: cannot make a path read-only")
        where = shlex.quote(str(read_only))
        script = f'mount --bind -o ro {where} {where} && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", script, "sh", *command]
    with _unwritable(read_only if os.geteuid() != 0 else None):
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
        )


@contextmanager
def _unwritable(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")] if not p.is_symlink()}
    for p, mode in modes.items():
        p.chmod(mode & ~0o222)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def the_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 3, done.stderr  # storage: could not be done now
    assert "Traceback" not in done.stderr and "bug in orchestrate" not in done.stderr
    return done.stderr.splitlines()[-1]


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.md"
    path.write_text(PLAN_MD)
    return path


def test_a_read_only_repository_is_one_line(repo: Path, plan: Path) -> None:
    line = the_line(orchestrate(repo, "run", str(plan), read_only=repo))
    ledger_dir = repo / ".orchestrate"
    assert line in (
        f"error: {ledger_dir} is on a read-only file system: work in a writable copy; "
        "then run the same command again",
        f"error: no permission to write {ledger_dir}: make it writable (chmod/chown); "
        "then run the same command again",
    )


def test_a_read_only_ledger_is_one_line(repo: Path, plan: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ledgers"
    folder.mkdir()
    Ledger(folder / "ledger.sqlite").close()

    line = the_line(
        orchestrate(
            repo, "run", str(plan), "--ledger", str(folder / "ledger.sqlite"), read_only=folder
        )
    )

    assert line.startswith(f"error: the ledger {folder / 'ledger.sqlite'} ") or line.startswith(
        f"error: cannot open the ledger {folder / 'ledger.sqlite'} "
    )
    assert "writable" in line


def test_a_ledger_path_that_is_a_folder_is_one_line(repo: Path, plan: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ledger.sqlite"
    folder.mkdir()

    line = the_line(orchestrate(repo, "run", str(plan), "--ledger", str(folder)))

    assert line == (
        f"error: the ledger path {folder} is a folder, not a file: pass --ledger with a file "
        "path; then run the same command again"
    )


def test_a_ledger_locked_by_another_process_is_one_line(
    repo: Path, plan: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        # An exclusive lock that readers respect too, held until the connection closes.
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        line = the_line(orchestrate(repo, "run", str(plan), "--ledger", str(path)))
    finally:
        holder.close()

    assert line == (
        f"error: the ledger {path} is locked by another process: wait for it to finish, or pass "
        "--ledger with another file; then run the same command again"
    )


def test_a_read_only_repository_with_the_ledger_elsewhere_is_one_line(
    repo: Path, plan: Path, tmp_path: Path
) -> None:
    # The ledger can be written; the run's branch cannot be made in the repository.
    done = orchestrate(
        repo, "run", str(plan), "--ledger", str(tmp_path / "ledger.sqlite"), read_only=repo
    )

    line = the_line(done)
    # Git says why when it knows (a chmod: "Permission denied"); a read-only mount it does not.
    assert line.startswith(
        (
            "error: `git update-ref` could not write in the repository (fatal: ",
            "error: no permission",
        )
    )
    assert "`git update-ref`" in line and line.endswith("finishes it")
