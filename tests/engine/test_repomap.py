"""Repo map: tree plus symbols, bounded in tokens, saying what it left out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrate.engine.repomap import CHARS_PER_TOKEN, list_files, repo_map

PY_MODULE = """\
import os


class Store(Base):
    def __init__(self, path: str) -> None:
        self.path = path

    def get(self, key: str) -> bytes:
        return b""

    def _private(self) -> None:
        pass


async def fetch(url: str, *, retries: int = 3) -> bytes:
    return b""


def _helper():
    pass
"""

JS_MODULE = """\
import x from 'y';

export function render(props) {
  return null;
}

export default class Widget extends Base {
  draw() {}
}

export const handler = async (event) => {
  return event;
};

module.exports = { render };
"""


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write(root, "src/pkg/store.py", PY_MODULE)
    write(root, "src/pkg/broken.py", "def oops(:\n")
    write(root, "web/app.js", JS_MODULE)
    write(root, "README.md", "# hi\n")
    write(root, "node_modules/lib/index.js", "function hidden() {}\n")
    write(root, ".venv/lib/site.py", "def hidden(): pass\n")
    write(root, "dist/bundle.js", "function hidden() {}\n")
    write(root, "env2/pyvenv.cfg", "home = /usr\n")
    write(root, "env2/lib/x.py", "def hidden(): pass\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    return root


def test_walk_map_has_tree_and_symbols(project: Path) -> None:
    text = repo_map(project)

    assert text.splitlines()[:4] == ["src/", "  pkg/", "    broken.py", "    store.py"]
    assert "      class Store(Base): __init__, get" in text
    assert "      async def fetch(url: str, *, retries: int=3) -> bytes" in text
    assert "_helper" not in text
    assert "_private" not in text
    assert "  app.js" in text
    assert "    export function render(props)" in text
    assert "    export default class Widget extends Base" in text
    assert "    export const handler = async (event) =>" in text
    assert "module.exports" not in text
    assert "README.md" in text
    for skipped in ("node_modules", ".venv", "env2", "dist", "hidden", "logo.png"):
        assert skipped not in text
    assert "…" not in text


def test_git_repo_lists_tracked_and_unignored_files(project: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)

    git("init", "-q")
    write(project, ".gitignore", "ignored/\n")
    write(project, "ignored/secret.py", "def secret(): pass\n")
    write(project, "build/gen.py", "def built(): pass\n")
    git("add", "src", "README.md", ".gitignore", "build")
    git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    (project / "README.md").unlink()

    files = list_files(project)

    assert "src/pkg/store.py" in files
    assert "web/app.js" in files  # untracked but not ignored
    assert "ignored/secret.py" not in files
    assert "build/gen.py" in files  # tracked, so a source even in a folder named build
    assert "README.md" not in files  # deleted from the working tree
    assert not any(f.startswith(("node_modules/", ".venv/")) for f in files)


def many_files(root: Path) -> None:
    for d in range(6):
        for f in range(8):
            body = "\n\n".join(
                f"def func_{d}_{f}_{i}(a: int, b: str) -> None: ..." for i in range(4)
            )
            write(root, f"pkg/deep{d}/inner/mod_{f}.py", body + "\n")
    write(root, "pkg/core/focus.py", "class Focus:\n    def run(self) -> None: ...\n")
    write(root, "pkg/core/sibling.py", "def near(x: int) -> int: ...\n")


def test_budget_drops_symbols_of_unrelated_files_first(tmp_path: Path) -> None:
    many_files(tmp_path)
    full = repo_map(tmp_path, max_tokens=100_000)
    assert len(full) > 1200 * CHARS_PER_TOKEN  # would not fit the budget below

    text = repo_map(tmp_path, max_tokens=1200, files=["pkg/core/focus.py"])

    assert len(text) <= 1200 * CHARS_PER_TOKEN
    assert "class Focus: run" in text
    assert "def near(x: int) -> int" in text
    assert "mod_7.py" in text  # the tree is still whole
    assert "def func_5_7_3" not in text
    assert text.splitlines()[-1].startswith("… symbols left out for ")


def test_tight_budget_folds_deep_folders_but_keeps_focus(tmp_path: Path) -> None:
    many_files(tmp_path)
    text = repo_map(tmp_path, max_tokens=120, files=["pkg/core/focus.py"])

    assert len(text) <= 120 * CHARS_PER_TOKEN
    assert "inner/ … 8 files" in text
    assert "focus.py" in text
    assert "sibling.py" in text
    assert "… 48 more files in folded folders" in text


def test_tiny_budget_still_says_what_is_missing(tmp_path: Path) -> None:
    for i in range(300):
        write(tmp_path, f"flat_file_with_a_long_name_{i:03}.txt", "x")
    text = repo_map(tmp_path, max_tokens=100)

    assert len(text) <= 100 * CHARS_PER_TOKEN
    last = text.splitlines()[-1]
    shown = len(text.splitlines()) - 1
    assert last == f"… {300 - shown} more files"


def test_empty_dir(tmp_path: Path) -> None:
    assert repo_map(tmp_path) == "(no files)"
