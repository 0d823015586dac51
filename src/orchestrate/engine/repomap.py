"""A compact, token-bounded map of a repository: its file tree plus each file's top-level symbols.

Over budget, symbols of the least relevant files go first (files the task names, then their
siblings, are most relevant), then deep folders collapse to a count; what was left out is
always said.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import git

from orchestrate.engine.symbols import SOURCE_SUFFIXES, file_symbols

CHARS_PER_TOKEN = 4
_NOTE_RESERVE = 160

SKIP_DIRS = frozenset(  # when walking a directory that is not a git repo
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
     "build", "dist", "target", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea",
     ".eggs", ".next", ".gradle", "site-packages"}
)  # fmt: skip
VENDOR_DIRS = frozenset({"node_modules", ".venv", "venv", "site-packages", "__pycache__"})
"""Skipped even when tracked; other SKIP_DIRS may hold real sources in a git repo (`build/`)."""
BINARY_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".pdf", ".zip", ".gz", ".tgz",
     ".bz2", ".xz", ".7z", ".tar", ".whl", ".egg", ".so", ".dylib", ".dll", ".exe", ".bin",
     ".o", ".a", ".pyc", ".pyo", ".class", ".jar", ".woff", ".woff2", ".ttf", ".otf", ".mp3",
     ".mp4", ".wav", ".mov", ".sqlite", ".db", ".gguf", ".pt", ".onnx", ".npy", ".parquet"}
)  # fmt: skip


@dataclass
class _Dir:
    path: str
    dirs: dict[str, _Dir] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    count: int = 0


def _binary(rel: str) -> bool:
    return posixpath.splitext(rel)[1].lower() in BINARY_SUFFIXES


def _vendored(rel: str) -> bool:
    return any(p in VENDOR_DIRS for p in rel.split("/")[:-1])


def _git_files(root: Path) -> list[str] | None:
    try:
        out = git.Git(root).ls_files("-z", "--cached", "--others", "--exclude-standard")
    except (git.GitCommandError, git.GitCommandNotFound):
        return None
    # --cached still lists files deleted from the working tree.
    return [p for p in str(out).split("\0") if p and (root / p).exists()]


def _walk_files(root: Path) -> list[str]:
    found: list[str] = []
    for here, dirs, names in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not d.endswith(".egg-info")
            and not (Path(here) / d / "pyvenv.cfg").exists()
        ]
        rel = Path(here).relative_to(root).as_posix()
        found.extend(name if rel == "." else f"{rel}/{name}" for name in names)
    return found


def list_files(root: Path) -> list[str]:
    """Repo-relative paths worth mapping: git's tracked and unignored files, else a filtered walk."""
    listed = _git_files(root)
    if listed is None:
        listed = _walk_files(root)
    return sorted(p for p in listed if not _binary(p) and not _vendored(p))


def _build(paths: list[str]) -> _Dir:
    root = _Dir("")
    for rel in paths:
        node = root
        node.count += 1
        for part in rel.split("/")[:-1]:
            child = posixpath.join(node.path, part)
            node = node.dirs.setdefault(part, _Dir(child))
            node.count += 1
        node.files.append(rel)
    return root


def _plural(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def _render(
    node: _Dir, depth: int, symbols: dict[str, list[str]], collapsed: set[str]
) -> Iterator[tuple[str, int]]:
    """Lines with how many files each one stands for."""
    pad = "  " * depth
    for name in sorted(node.dirs):
        sub = node.dirs[name]
        if sub.path in collapsed:
            yield f"{pad}{name}/ … {_plural(sub.count)}", sub.count
        else:
            yield f"{pad}{name}/", 0
            yield from _render(sub, depth + 1, symbols, collapsed)
    for rel in sorted(node.files):
        yield f"{pad}{posixpath.basename(rel)}", 1
        for symbol in symbols.get(rel, []):
            yield f"{pad}  {symbol}", 0


def _size(lines: list[tuple[str, int]]) -> int:
    return sum(len(line) + 1 for line, _ in lines)


def _all_dirs(node: _Dir) -> Iterator[_Dir]:
    for sub in node.dirs.values():
        yield sub
        yield from _all_dirs(sub)


def _collapse_options(tree: _Dir, focus: set[str]) -> Iterator[set[str]]:
    """Ever more folded views: no folding, then unfocused dirs from the deepest level up."""
    yield set()
    dirs = list(_all_dirs(tree))
    kept = {posixpath.dirname(p) for p in focus}
    kept = {d for k in kept for d in _ancestors(k)}
    deepest = max((d.path.count("/") for d in dirs), default=-1)
    for level in range(deepest, -1, -1):
        yield {d.path for d in dirs if d.path.count("/") >= level and d.path not in kept}
    yield {d.path for d in dirs}


def _ancestors(path: str) -> set[str]:
    parts = path.split("/") if path else []
    return {"/".join(parts[: i + 1]) for i in range(len(parts))}


def _hidden(rel: str, collapsed: set[str]) -> bool:
    return bool(collapsed) and bool(_ancestors(posixpath.dirname(rel)) & collapsed)


def _rank(paths: list[str], focus: set[str]) -> list[str]:
    near = {posixpath.dirname(p) for p in focus}

    def key(rel: str) -> tuple[int, int, str]:
        level = 0 if rel in focus else 1 if posixpath.dirname(rel) in near else 2
        return (level, rel.count("/"), rel)

    return sorted(paths, key=key)


def _add_symbols(root: Path, ranked: list[str], room: int) -> tuple[dict[str, list[str]], int]:
    """Symbols for the most relevant files that fit in `room` chars; and how many were left out."""
    chosen: dict[str, list[str]] = {}
    for index, rel in enumerate(ranked):
        found = file_symbols(root, rel)
        pad = 2 * rel.count("/") + 2
        cost = sum(pad + len(s) + 1 for s in found)
        if cost > room:
            rest = ranked[index:]
            return chosen, sum(
                1 for r in rest if posixpath.splitext(r)[1].lower() in SOURCE_SUFFIXES
            )
        if found:
            chosen[rel] = found
            room -= cost
    return chosen, 0


def _truncated(lines: list[tuple[str, int]], room: int, total: int) -> str:
    kept: list[str] = []
    shown = 0
    for line, count in lines:
        if len(line) + 1 > room:
            break
        kept.append(line)
        shown += count
        room -= len(line) + 1
    return "\n".join([*kept, f"… {total - shown} more files"])


def map_omissions(text: str) -> list[str]:
    """What a map says it left out (its closing `… ` lines), without the ellipsis."""
    return [line[2:] for line in text.splitlines() if line.startswith("… ")]


def repo_map(root: Path, max_tokens: int = 2000, files: list[str] | None = None) -> str:
    """The map of `root`, at most about `max_tokens` tokens (estimated as chars / 4)."""
    paths = list_files(root)
    if not paths:
        return "(no files)"
    # Named files may not exist yet; their folders still say where the task works.
    focus = {posixpath.normpath(f) for f in files or []}
    tree = _build(paths)
    budget = max_tokens * CHARS_PER_TOKEN - _NOTE_RESERVE
    for collapsed in _collapse_options(tree, focus):
        lines = list(_render(tree, 0, {}, collapsed))
        if _size(lines) <= budget:
            break
    else:
        return _truncated(lines, budget, len(paths))
    visible = [p for p in _rank(paths, focus) if not _hidden(p, collapsed)]
    symbols, left_out = _add_symbols(root, visible, budget - _size(lines))
    out = [line for line, _ in _render(tree, 0, symbols, collapsed)]
    if collapsed:
        folded = len(paths) - len(visible)
        out.append(f"… {folded} more files in folded folders")
    if left_out:
        out.append(f"… symbols left out for {left_out} less relevant source files")
    return "\n".join(out)
