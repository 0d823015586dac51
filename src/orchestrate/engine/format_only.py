"""A change proven to be formatting only, which a cloud review cannot add anything to.

Proven means: every subtask that ran was a `format` one (the plan said the task is formatting),
and every file the run changed is Python that existed before and parses to the same syntax tree
after (`ast.dump`, which leaves out positions and comments; parsed from the bytes, so a coding
cookie counts). CPython compiles the tree, so the code does the same thing, bar what reads line
numbers or its own source text (tracebacks, `inspect.getsource`). A docstring is in the tree, so
changing one is not formatting. Anything else (a new, deleted or non-Python file, a changed
tree, a `code` or `test` subtask, unfinished work) is reviewed as before. The run then says
"not reviewed" with this reason, and the task's checks alone decide, as when no reviewer can
be had (`Engine` status).
"""

from __future__ import annotations

import ast
import asyncio
import warnings
from collections.abc import Mapping, Sequence

import git

from orchestrate.engine.plan import Plan
from orchestrate.engine.result import SubtaskResult
from orchestrate.engine.workspace import Workspace

FORMAT_ONLY = "format-only, code unchanged (every changed file parses to the same syntax tree)"
"""Why such a run is not reviewed: said in its report and its notice."""
PYTHON = (".py", ".pyi")

Change = tuple[bytes | None, bytes | None]
"""A file's bytes before and after the run (None: it does not exist on that side)."""


def same_code(before: bytes, after: bytes) -> bool:
    """Whether two versions of a Python file parse to the same syntax tree."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes warn; they are not our concern
            return ast.dump(ast.parse(before)) == ast.dump(ast.parse(after))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # what does not parse cannot be proven unchanged


def proven_format_only(
    plan: Plan, results: Sequence[SubtaskResult], changed: Mapping[str, Change]
) -> bool:
    """Whether the run's whole change is formatting, proven (see the module's docstring)."""
    kinds = {subtask.kind for subtask in plan.subtasks} | {result.kind for result in results}
    if kinds != {"format"} or not changed:
        return False
    if any(result.status != "done" for result in results):
        return False
    for path, (before, after) in changed.items():
        if not path.endswith(PYTHON) or before is None or after is None:
            return False
        if not same_code(before, after):
            return False
    return True


def _blob(repo: git.Repo, commit: str, path: str) -> bytes | None:
    try:
        return bytes((repo.commit(commit).tree / path).data_stream.read())
    except KeyError:
        return None  # not in that commit's tree: created or deleted by the run


async def format_only_change(
    workspace: Workspace, plan: Plan, results: Sequence[SubtaskResult]
) -> bool:
    """Whether the run's committed change (base to HEAD) is proven formatting only; git reads
    and parsing happen in a worker thread."""

    def prove() -> bool:
        if {subtask.kind for subtask in plan.subtasks} != {"format"}:
            return False  # no need to read anything
        repo = git.Repo(workspace.path)
        try:
            changed = {
                path: (_blob(repo, workspace.base_sha, path), _blob(repo, "HEAD", path))
                for path in workspace.changed_files()
            }
        finally:
            repo.close()
        return proven_format_only(plan, results, changed)

    return await asyncio.to_thread(prove)
