"""What a source file defines: its top-level symbols for the repo map, and where each symbol
(methods included) starts and ends, for showing a large file as the parts a task names.

Python is read with `ast`; other common languages by their declaration lines.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

MAX_PARSE_BYTES = 256 * 1024
"""Larger files are listed but not parsed for symbols."""
MAX_SYMBOLS = 40
MAX_SYMBOL_CHARS = 120
_PYTHON = frozenset({".py", ".pyi"})
_REGEX_LANGS = frozenset(
    {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rs", ".rb", ".java", ".kt",
     ".swift", ".cs", ".php", ".scala", ".c", ".h", ".cc", ".cpp", ".hpp", ".lua"}
)  # fmt: skip
SOURCE_SUFFIXES = _PYTHON | _REGEX_LANGS
_DECL = re.compile(
    r"^(?:export\s+(?:default\s+)?)?(?:(?:pub(?:\([^)]*\))?|public|private|protected|internal|"
    r"static|final|abstract|sealed|data|async|unsafe|extern)\s+)*"
    r"(?:def|class|function\*?|fn|func|struct|enum|trait|interface|module|impl|object)(?=[\s<])"
    r"|^(?:export\s+)?(?:const|let)\s+[\w$]+\s*=\s*(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*=>"
)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SYMBOL_CHARS else text[: MAX_SYMBOL_CHARS - 1] + "…"


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return _clip(f"{prefix} {node.name}({ast.unparse(node.args)}){returns}")


def _class_line(node: ast.ClassDef) -> str:
    bases = ", ".join(ast.unparse(b) for b in node.bases)
    head = f"class {node.name}({bases})" if bases else f"class {node.name}"
    methods = [
        n.name
        for n in node.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and _public(n.name)
    ]
    return _clip(f"{head}: {', '.join(methods)}" if methods else head)


def python_symbols(source: str) -> list[str]:
    """Public top-level classes (with method names) and functions (with signatures)."""
    try:
        tree = ast.parse(source)
        symbols = []
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and _public(node.name):
                symbols.append(_class_line(node))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _public(node.name):
                symbols.append(_signature(node))
    except (SyntaxError, ValueError, RecursionError):
        return []
    return symbols


@dataclass(frozen=True)
class Span:
    """Where one symbol is defined: its name, its lines (1-based, inclusive) and its map line."""

    name: str
    start: int
    end: int
    summary: str
    """The symbol as the map shows it (signature, or class with its method names)."""
    parent: str = ""
    """The class a method belongs to; empty for top-level symbols."""


def _python_spans(source: str) -> list[Span]:
    tree = ast.parse(source)
    spans: list[Span] = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        end = node.end_lineno or node.lineno
        if isinstance(node, ast.ClassDef):
            spans.append(Span(node.name, start, end, _class_line(node)))
            for child in node.body:
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    last = child.end_lineno or child.lineno
                    spans.append(Span(child.name, first, last, _signature(child), node.name))
        else:
            spans.append(Span(node.name, start, end, _signature(node)))
    return spans


_DECL_NAME = re.compile(
    r"(?:def|class|function\*?|fn|func|struct|enum|trait|interface|module|impl|object|const|let)"
    r"\s+([\w$]+)"
)


def _regex_spans(source: str) -> list[Span]:
    lines = source.splitlines()
    starts = [(n, line) for n, line in enumerate(lines, start=1) if _DECL.match(line)]
    spans = []
    for index, (start, line) in enumerate(starts):
        end = starts[index + 1][0] - 1 if index + 1 < len(starts) else len(lines)
        found = _DECL_NAME.search(line)
        name = found.group(1) if found else line.strip()
        spans.append(Span(name, start, end, _clip(line.rstrip().rstrip("{").rstrip())))
    return spans


def symbol_spans(path: str, source: str) -> list[Span]:
    """Where each symbol of `source` is defined (Python: classes, their methods, functions;
    other languages: each top-level declaration up to the next); [] for other files."""
    suffix = posixpath.splitext(path)[1].lower()
    if suffix in _PYTHON:
        try:
            return _python_spans(source)
        except (SyntaxError, ValueError, RecursionError):
            return []
    return _regex_spans(source) if suffix in _REGEX_LANGS else []


def regex_symbols(source: str) -> list[str]:
    """Top-level declaration lines (def/class/function/fn/func/...) in other languages."""
    found = []
    for line in source.splitlines():
        if _DECL.match(line):
            found.append(_clip(line.rstrip().rstrip("{").rstrip()))
    return found


def file_symbols(root: Path, rel: str) -> list[str]:
    """Symbols of one file, or [] for unknown languages, binaries and very large files."""
    suffix = posixpath.splitext(rel)[1].lower()
    if suffix not in SOURCE_SUFFIXES:
        return []
    path = root / rel
    try:
        if path.is_symlink() or path.stat().st_size > MAX_PARSE_BYTES:
            return []
        data = path.read_bytes()
    except OSError:
        return []
    if b"\0" in data[:8192]:
        return []
    text = data.decode("utf-8", errors="replace")
    found = python_symbols(text) if suffix in _PYTHON else regex_symbols(text)
    if len(found) > MAX_SYMBOLS:
        found = [*found[:MAX_SYMBOLS], f"… {len(found) - MAX_SYMBOLS} more"]
    return found
