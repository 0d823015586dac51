"""Path safety: an edit may only touch an allowed file inside the repository, never `.git`."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from orchestrate.exceptions import EditRefusedError

MAX_FILE_BYTES = 1024 * 1024
"""Default bound on one file's new content (UTF-8 bytes); a runaway model reply stops here."""

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHOWN_ALLOWED = 5


def _refuse(raw: str, why: str) -> EditRefusedError:
    return EditRefusedError(f"edit to {raw!r} refused: {why}")


def _is_git(part: str) -> bool:
    # Windows and some filesystems drop trailing dots and spaces, and fold case.
    return part.rstrip(" .").casefold() == ".git"


def _parts(raw: str) -> list[str]:
    return [part for part in raw.strip().replace("\\", "/").split("/") if part not in ("", ".")]


def path_problem(raw: str) -> str | None:
    """Why `raw` cannot name a file a run may edit, or None when it can. The one rule for paths
    from a plan.md `files:` line, a planner's plan and a worker's edit alike."""
    if "\x00" in raw:
        return "the name contains a NUL byte"
    if _CONTROL.search(raw):
        return "the name contains a control character"
    text = raw.strip().replace("\\", "/")
    if not text:
        return "the file name is empty"
    if text.startswith(("/", "~")) or _DRIVE.match(text):
        return "absolute paths are not allowed (nor a leading '~'); use a path relative to the repository"
    parts = _parts(text)
    if not parts:
        return "the path names no file"
    if ".." in parts:
        return "'..' is not allowed in paths"
    if any(_is_git(part) for part in parts):
        return "files under .git may not be edited"
    return None


def normalise_edit_path(raw: str) -> str:
    """`raw` as a clean posix path relative to the root, or `EditRefusedError` saying why not."""
    problem = path_problem(raw)
    if problem is not None:
        raise _refuse(raw, problem)
    return "/".join(_parts(raw))


def _check_allowed(raw: str, relative: str, allowed: Collection[str], via: str = "") -> None:
    permitted = {"/".join(_parts(entry)) for entry in allowed}
    if relative in permitted:
        return
    shown = ", ".join(sorted(permitted)[:_SHOWN_ALLOWED]) or "none"
    more = " ..." if len(permitted) > _SHOWN_ALLOWED else ""
    raise _refuse(raw, f"{via}not one of this subtask's files ({shown}{more})")


def _resolved(raw: str, root: Path, relative: str) -> Path:
    try:
        return (root / relative).resolve()
    except RuntimeError as exc:  # pathlib reports a symlink loop this way
        raise _refuse(raw, "the path runs into a symlink loop") from exc
    except OSError as exc:
        raise _refuse(raw, f"the path cannot be resolved ({exc.strerror})") from exc


def _check_inside(raw: str, root: Path, target: Path) -> None:
    if target == root or not target.is_relative_to(root):
        raise _refuse(raw, "it leads outside the repository through a symlink")
    if any(_is_git(part) for part in target.relative_to(root).parts):
        raise _refuse(raw, "it leads into .git through a symlink")
    if target.is_dir():
        raise _refuse(raw, "it is a directory")
    for parent in target.parents:
        if parent == root:
            break
        if parent.exists() and not parent.is_dir():
            raise _refuse(raw, f"{parent.relative_to(root)} is a file, not a directory")


def resolve_edit_path(root: Path, raw: str, allowed: Collection[str] | None) -> Path:
    """The real location `raw` may be written at, inside `root`; `EditRefusedError` otherwise.

    `allowed` is the subtask's file list (None: any file in the repository); both the path as
    written and where it lands after symlinks must be on it. Symlinks are followed, so the
    returned path is where the bytes will land and is always under `root`.
    """
    relative = normalise_edit_path(raw)
    if allowed is not None:
        _check_allowed(raw, relative, allowed)
    real_root = root.resolve()
    target = _resolved(raw, real_root, relative)
    try:
        _check_inside(raw, real_root, target)
    except OSError as exc:  # e.g. a name too long for the file system
        raise _refuse(raw, f"the path cannot be checked ({exc.strerror})") from exc
    landing = target.relative_to(real_root).as_posix()
    if allowed is not None and landing != relative:
        # A symlink inside the repository must not carry a write to a file the subtask does
        # not own.
        _check_allowed(raw, landing, allowed, via=f"it leads through a symlink to {landing}, ")
    return target


def check_content_size(raw: str, content: bytes, max_bytes: int = MAX_FILE_BYTES) -> None:
    """`EditRefusedError` when new content for `raw` is larger than `max_bytes`."""
    if len(content) > max_bytes:
        raise _refuse(raw, f"the new content is {len(content)} bytes, over the {max_bytes} limit")
