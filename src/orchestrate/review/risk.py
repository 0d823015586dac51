"""Which files a limited review takes first: the riskiest, by the kind of file and the size of its
change, never by the alphabet. Files flagged by our own scans come before everything else."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from pathlib import PurePosixPath
from typing import Literal

from orchestrate.github.patch import FilePatch

FileKind = Literal["sensitive", "code", "build", "test", "other", "docs"]

KIND_WEIGHT: dict[FileKind, float] = {
    "sensitive": 4.0,
    "code": 3.0,
    "build": 2.5,
    "test": 1.5,
    "other": 1.0,
    "docs": 0.5,
}
"""How much a changed line of each kind of file weighs. Security-sensitive code and what runs in
CI or builds can do the most harm; prose the least."""

_SENSITIVE = re.compile(
    r"auth|login|passw|secret|token|credential|crypt|permission|acl|session|oauth|security|"
    r"saniti[sz]|(^|/)\.github/workflows/|(^|/)migrations?/|\.sql$",
    re.IGNORECASE,
)
_BUILD_NAMES = frozenset(
    {
        "dockerfile",
        "makefile",
        "setup.py",
        "setup.cfg",
        "pyproject.toml",
        "package.json",
        "cargo.toml",
        "go.mod",
        "build.gradle",
        "pom.xml",
        "action.yml",
        "action.yaml",
    }
)
_TEST = re.compile(
    r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*$|_test\.\w+$|\.(spec|test)\.\w+$"
)
_CODE = frozenset(
    [
        ".py",
        ".pyi",
        ".js",
        ".jsx",
        ".mjs",
        ".cjs",
        ".ts",
        ".tsx",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".kts",
        ".scala",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".cs",
        ".rb",
        ".php",
        ".swift",
        ".m",
        ".mm",
        ".sh",
        ".bash",
        ".zsh",
        ".ps1",
        ".lua",
        ".pl",
        ".r",
        ".jl",
        ".ex",
        ".exs",
        ".erl",
        ".hs",
        ".ml",
        ".sol",
        ".vue",
        ".svelte",
        ".dart",
        ".zig",
    ]
)
_DOCS = frozenset([".md", ".rst", ".txt", ".adoc", ".org"])


def file_kind(path: str) -> FileKind:
    """What kind of file `path` is, for its review priority."""
    pure = PurePosixPath(path)
    name, suffix = pure.name.lower(), pure.suffix.lower()
    if _TEST.search(path):
        return "test"
    if _SENSITIVE.search(path):
        return "sensitive"
    if name in _BUILD_NAMES or name.startswith("dockerfile") or "requirements" in name:
        return "build"
    if suffix in _CODE:
        return "code"
    if suffix in _DOCS:
        return "docs"
    return "other"


def changed_lines(patch: FilePatch) -> int:
    """Lines added and deleted, as GitHub counts them or, lacking counts, as the hunks show."""
    counted = patch.additions + patch.deletions
    if counted:
        return counted
    return sum(1 for hunk in patch.hunks for line in hunk.lines if line.kind != "ctx")


def risk(patch: FilePatch) -> float:
    """Review priority: the kind's weight, growing with the logarithm of the change's size (a
    10,000-line generated file does not outrank a 40-line change to authentication)."""
    return KIND_WEIGHT[file_kind(patch.path)] * (1.0 + math.log2(1 + changed_lines(patch)))


def by_risk(files: Sequence[FilePatch], first: Collection[str] = ()) -> list[FilePatch]:
    """`files` riskiest first; paths in `first` lead (our scans flagged them)."""
    return sorted(files, key=lambda p: (p.path not in first, -risk(p), p.path))
