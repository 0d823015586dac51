"""Which OS and git failures are storage problems, and the advice each gets."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import git
import pytest

from orchestrate.exceptions import StorageError
from orchestrate.os_errors import storage_error


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (errno.ENOSPC, "no space left to write /r/x: free some disk space"),
        (errno.EDQUOT, "no space left to write /r/x: free some disk space"),
        (errno.EFBIG, "/r/x cannot grow: the disk or a file-size limit (ulimit -f) is full"),
        (errno.EROFS, "/r/x is on a read-only file system: work in a writable copy"),
        (errno.EACCES, "no permission to write /r/x: make it writable (chmod/chown)"),
        (errno.ENOTDIR, "/r/x: part of that path is a file, not a folder"),
    ],
)
def test_storage_errnos_get_their_advice(code: int, said: str) -> None:
    found = storage_error(OSError(code, os.strerror(code), "/r/x"))
    assert isinstance(found, StorageError)
    assert str(found).startswith(said)
    assert str(found).endswith("; then run the same command again")


def test_other_os_errors_are_not_storage_problems() -> None:
    assert storage_error(ConnectionRefusedError(errno.ECONNREFUSED, "refused")) is None
    assert storage_error(TimeoutError()) is None
    assert storage_error(ValueError("a bug")) is None


def test_a_git_lock_file_left_behind_is_named(tmp_path: Path) -> None:
    git.Repo.init(tmp_path)
    (tmp_path / ".git" / "index.lock").touch()
    with pytest.raises(git.GitCommandError) as failed:
        git.Git(tmp_path).add("-A")

    found = storage_error(failed.value)

    assert found is not None
    lock = tmp_path / ".git" / "index.lock"
    assert str(found).startswith(f"git cannot take {lock}: another git process is working there")
    assert "delete that file" in str(found)
