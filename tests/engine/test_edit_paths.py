"""Path safety and all-or-nothing writes: a refused edit leaves the file system as it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrate.engine.edits import (
    MAX_FILE_BYTES,
    FileEdit,
    SearchReplace,
    apply_edits,
    resolve_edit_path,
)
from orchestrate.exceptions import EditRefusedError

Snapshot = dict[str, tuple[Any, ...]]


def snapshot(top: Path) -> Snapshot:
    """Every entry under `top`: symlink targets, file bytes and modes, directories."""
    seen: Snapshot = {}
    for path in sorted(top.rglob("*")):
        key = path.relative_to(top).as_posix()
        if path.is_symlink():
            seen[key] = ("link", os.readlink(path))
        elif path.is_dir():
            seen[key] = ("dir", path.stat().st_mode)
        else:
            seen[key] = ("file", path.read_bytes(), path.stat().st_mode)
    return seen


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """`tmp_path/repo` (the root) beside `tmp_path/outside`, with symlinks between them."""
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    (root / ".git").mkdir(parents=True)
    (root / ".git/config").write_text("[core]\n")
    (root / "sub").mkdir()
    (root / "sub/.git").write_text("gitdir: ../.git/modules/sub\n")
    (root / "a.py").write_text("a = 1\n")
    (root / "b.py").write_text("b = 1\n")
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "secret_link.txt").symlink_to(outside / "secret.txt")
    (root / "gitdir").symlink_to(root / ".git", target_is_directory=True)
    (root / "b_link.py").symlink_to(root / "b.py")
    (root / "loop").symlink_to(root / "loop")
    return root


REFUSED = [
    ("/etc/passwd", "absolute"),
    ("~/notes.txt", "absolute"),
    ("C:\\Windows\\x.py", "absolute"),
    ("../outside/new.py", "'..'"),
    ("src/../../outside/new.py", "'..'"),
    ("src\\..\\..\\x.py", "'..'"),
    (".git/config", ".git"),
    (".GIT/config", ".git"),
    (".git", ".git"),
    (".Git./hooks/pre-commit", ".git"),
    ("sub/.git", ".git"),
    ("out/new.py", "outside the repository"),
    ("out/secret.txt", "outside the repository"),
    ("secret_link.txt", "outside the repository"),
    ("gitdir/config", "into .git"),
    ("loop", "symlink loop"),
    ("a\x00.py", "NUL"),
    ("a\n.py", "control character"),
    ("", "empty"),
    ("   ", "empty"),
    ("./", "names no file"),
    ("sub", "directory"),
    ("a.py/inner.py", "is a file"),
]


@pytest.mark.parametrize(("raw", "why"), REFUSED)
def test_unsafe_path_is_refused_and_nothing_changes(world: Path, raw: str, why: str) -> None:
    before = snapshot(world.parent)

    with pytest.raises(EditRefusedError) as caught:
        apply_edits(world, [FileEdit(path=raw, content="pwned\n")], None)

    message = str(caught.value)
    assert why in message
    assert repr(raw) in message
    assert "\n" not in message
    assert snapshot(world.parent) == before


@pytest.mark.parametrize(("raw", "why"), REFUSED[:6])
def test_unsafe_path_is_refused_for_search_replace_too(world: Path, raw: str, why: str) -> None:
    before = snapshot(world.parent)
    edit = SearchReplace(path=raw, search="", replace="pwned", index=1)

    with pytest.raises(EditRefusedError, match=why):
        apply_edits(world, [edit], None)

    assert snapshot(world.parent) == before


def test_file_not_in_the_allowed_list_is_refused(world: Path) -> None:
    before = snapshot(world.parent)

    with pytest.raises(EditRefusedError, match=r"not one of this subtask's files \(a\.py\)"):
        apply_edits(world, [FileEdit(path="b.py", content="x\n")], ["a.py"])

    assert snapshot(world.parent) == before


def test_symlink_into_a_file_not_allowed_is_refused(world: Path) -> None:
    before = snapshot(world.parent)

    with pytest.raises(EditRefusedError, match=r"through a symlink to b\.py"):
        apply_edits(world, [FileEdit(path="b_link.py", content="x\n")], ["b_link.py"])

    assert snapshot(world.parent) == before


def test_symlink_inside_the_repository_writes_its_target(world: Path) -> None:
    result = apply_edits(world, [FileEdit(path="b_link.py", content="b = 2\n")], None)

    assert result.changed == ("b.py",)
    assert (world / "b_link.py").is_symlink()
    assert (world / "b.py").read_text() == "b = 2\n"


def test_allowed_paths_are_compared_normalised(world: Path) -> None:
    target = resolve_edit_path(world, ".\\pkg//mod.py", ["./pkg/mod.py"])

    assert target == world.resolve() / "pkg" / "mod.py"


def test_oversized_content_is_refused(world: Path) -> None:
    before = snapshot(world.parent)
    huge = "x" * MAX_FILE_BYTES + "\n"

    with pytest.raises(EditRefusedError, match="over the 1048576 limit"):
        apply_edits(world, [FileEdit(path="big.txt", content=huge)], None)

    assert snapshot(world.parent) == before


def test_size_bound_is_configurable(world: Path) -> None:
    edit = FileEdit(path="small.txt", content="0123456789\n")

    with pytest.raises(EditRefusedError, match="11 bytes, over the 10 limit"):
        apply_edits(world, [edit], None, max_bytes=10)
    assert apply_edits(world, [edit], None, max_bytes=11).changed == ("small.txt",)


def test_non_utf8_file_is_refused(world: Path) -> None:
    (world / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    before = snapshot(world.parent)

    with pytest.raises(EditRefusedError, match="not UTF-8"):
        apply_edits(world, [SearchReplace(path="blob.bin", search="x", replace="y", index=1)], None)

    assert snapshot(world.parent) == before


def test_one_bad_edit_among_several_changes_no_file(world: Path) -> None:
    before = snapshot(world.parent)
    edits: list[FileEdit | SearchReplace] = [
        FileEdit(path="a.py", content="a = 2\n"),
        FileEdit(path="new/dir/c.py", content="c = 1\n"),
        SearchReplace(path="b.py", search="b = 1", replace="b = 2", index=1),
        FileEdit(path="../escape.py", content="x\n"),
    ]

    with pytest.raises(EditRefusedError, match=r"escape\.py"):
        apply_edits(world, edits, None)

    assert snapshot(world.parent) == before


def test_oversized_last_edit_changes_no_file(world: Path) -> None:
    before = snapshot(world.parent)
    edits = [FileEdit(path="a.py", content="a = 2\n"), FileEdit(path="c.py", content="y" * 50)]

    with pytest.raises(EditRefusedError):
        apply_edits(world, edits, None, max_bytes=20)

    assert snapshot(world.parent) == before


def _failing_on_call(real: Callable[..., Any], failing_call: int) -> Callable[..., Any]:
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == failing_call:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    return wrapper


def test_failed_rename_rolls_back_files_already_written(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(world.parent)
    monkeypatch.setattr(os, "replace", _failing_on_call(os.replace, 3))
    edits = [
        FileEdit(path="a.py", content="a = 2\n"),
        FileEdit(path="fresh/new.py", content="n = 1\n"),
        FileEdit(path="b.py", content="b = 2\n"),
    ]

    with pytest.raises(EditRefusedError, match=r"'b.py' could not be written.*no file changed"):
        apply_edits(world, edits, None)

    assert snapshot(world.parent) == before


def test_failed_staging_leaves_no_temp_files(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(world.parent)
    monkeypatch.setattr(os, "fsync", _failing_on_call(os.fsync, 2))
    edits = [FileEdit(path="a.py", content="a = 2\n"), FileEdit(path="d/e.py", content="e\n")]

    with pytest.raises(EditRefusedError, match="No space left on device"):
        apply_edits(world, edits, None)

    assert snapshot(world.parent) == before
