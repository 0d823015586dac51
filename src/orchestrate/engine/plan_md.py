"""Read a hand-written plan.md into tasks.

One task per `## ` heading; with no such heading, one per top-level unticked checklist item
(`- [ ] ...`, its indented lines are the body; ticked `- [x]` items count as done and are
skipped). Inside a task, `files: a.py, b.py` and `check: <command>` lines (several `check:`
lines allowed) are lifted out of the instructions. Text before the first task is the context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, Field

from orchestrate.engine.edits.paths import path_problem
from orchestrate.exceptions import PlanError

MAX_PLAN_BYTES = 1024 * 1024
MAX_TASKS = 200

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^ {0,3}##(?!#)(?:[ \t]+(.*))?$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_ITEM = re.compile(r"^[-*+][ \t]+\[([ xX])\](?:[ \t]+(.*))?$")
_DIRECTIVE = re.compile(r"^\s*(?:[-*+]\s+)?(files|check):(.*)$")
_QUOTED_COMMAND = re.compile(r"(`+)([^`]*)\1")
_DRIVE = re.compile(r"^[A-Za-z]:/")


class TaskSpec(BaseModel):
    """One task from plan.md."""

    title: str
    """The heading text, or the checklist item's text."""
    instructions: str
    """What to do: the task's body without its `files:`/`check:` lines.

    A checklist item without indented lines is its own instruction."""
    files: list[str] = Field(default_factory=list)
    """Repo-relative paths from `files:` lines."""
    checks: list[str] = Field(default_factory=list)
    """Shell commands from `check:` lines, in order."""
    line: int
    """1-based line of the task's heading or checklist item."""


class PlanDoc(BaseModel):
    """A parsed plan.md."""

    context: str
    """The title line and any text that belongs to no task."""
    tasks: list[TaskSpec]
    """The tasks, in file order."""


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    code: bool


def _fail(source: str, line: int | None, message: str) -> PlanError:
    where = f"{source}:{line}" if line is not None else source
    return PlanError(f"{where}: {message}")


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    in_fence = False
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        fence = bool(_FENCE.match(raw))
        lines.append(_Line(number, raw, in_fence or fence))
        if fence:
            in_fence = not in_fence
    return lines


def _clean_path(source: str, line: int, raw: str, title: str) -> str:
    # A backslash in a plan is a Windows separator, not part of a name.
    path = raw.strip().strip("`'\"").strip().replace("\\", "/")
    source = f"{source}:{line}: task {title!r}"
    if path.startswith("/") or _DRIVE.match(path):
        raise _fail(source, None, f"file path {path!r} is absolute (name it relative to the repo)")
    parts = [p for p in PurePosixPath(path).parts if p != "."]
    if ".." in parts:
        raise _fail(source, None, f"file path {path!r} leaves the repo (remove the '..')")
    if not parts:
        raise _fail(source, None, f"file path {raw.strip()!r} names no file (give a file path)")
    # The rule every edit is held to, applied now: a path no run could edit is refused before
    # any branch is made, not when the run that needs it starts.
    problem = path_problem(path)
    if problem is not None:
        raise _fail(source, None, f"file path {path!r} is refused: {problem} (fix the line)")
    return "/".join(parts)


def _unquote_command(raw: str) -> str:
    value = raw.strip()
    match = _QUOTED_COMMAND.fullmatch(value)
    return match.group(2).strip() if match else value


def _take_directives(
    source: str, title: str, body: list[_Line]
) -> tuple[list[str], list[str], list[str]]:
    """Split body lines into (instruction lines, files, checks)."""
    kept: list[str] = []
    files: list[str] = []
    checks: list[str] = []
    for line in body:
        match = None if line.code else _DIRECTIVE.match(line.text)
        if match is None:
            kept.append(line.text)
        elif match.group(1) == "files":
            names = [n for n in match.group(2).split(",") if n.strip()]
            if not names:
                raise _fail(
                    source, line.number, "files: names no files (list paths, comma-separated)"
                )
            files.extend(
                p
                for p in (_clean_path(source, line.number, n, title) for n in names)
                if p not in files
            )
        else:
            command = _unquote_command(match.group(2))
            if not command:
                raise _fail(source, line.number, "check: has no command (write the shell command)")
            checks.append(command)
    return kept, files, checks


def _dedent(lines: list[_Line]) -> list[_Line]:
    widths = [len(x.text) - len(x.text.lstrip()) for x in lines if x.text.strip()]
    cut = min(widths, default=0)
    return [_Line(x.number, x.text[cut:], x.code) for x in lines]


def _make_task(source: str, title: str, line: int, body: list[_Line], own: bool) -> TaskSpec:
    """`own`: a checklist item may stand as its own instruction."""
    if not title:
        raise _fail(source, line, "task has no title (write one after '## ' or '- [ ] ')")
    kept, files, checks = _take_directives(source, title, _dedent(body))
    instructions = "\n".join(kept).strip("\n")
    if not instructions.strip():
        if not own:
            raise _fail(
                source, line, f"task {title!r} has no instructions (write what to do under it)"
            )
        instructions = title
    return TaskSpec(title=title, instructions=instructions, files=files, checks=checks, line=line)


def _heading_title(line: _Line) -> str | None:
    if line.code:
        return None
    match = _HEADING.match(line.text)
    if match is None:
        return None
    return _CLOSING_HASHES.sub("", match.group(1) or "").strip()


def _by_headings(source: str, lines: list[_Line]) -> tuple[list[_Line], list[TaskSpec]] | None:
    starts = [i for i, line in enumerate(lines) if _heading_title(line) is not None]
    if not starts:
        return None
    tasks = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        title = _heading_title(lines[start]) or ""
        tasks.append(_make_task(source, title, lines[start].number, lines[start + 1 : end], False))
    return lines[: starts[0]], tasks


def _by_checklist(source: str, lines: list[_Line]) -> tuple[list[_Line], list[TaskSpec], int]:
    """Returns (loose lines, tasks, number of ticked items skipped)."""
    loose: list[_Line] = []
    tasks: list[TaskSpec] = []
    ticked = 0
    i = 0
    while i < len(lines):
        match = None if lines[i].code else _ITEM.match(lines[i].text)
        if match is None:
            loose.append(lines[i])
            i += 1
            continue
        end = i + 1
        while end < len(lines) and (not lines[end].text.strip() or lines[end].text[0] in " \t"):
            end += 1
        if match.group(1) == " ":
            title = (match.group(2) or "").strip()
            tasks.append(_make_task(source, title, lines[i].number, lines[i + 1 : end], True))
        else:
            ticked += 1
        i = end
    return loose, tasks, ticked


def parse_plan(text: str, source: str = "plan.md") -> PlanDoc:
    """Parse plan text; `source` names the file in error messages."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_PLAN_BYTES:
        raise _fail(source, 1, f"plan is {size} bytes, over the 1 MiB limit (split it into parts)")
    lines = _split_lines(text.removeprefix("\ufeff"))
    by_headings = _by_headings(source, lines)
    ticked = 0
    if by_headings is None:
        loose, tasks, ticked = _by_checklist(source, lines)
    else:
        loose, tasks = by_headings
    if not tasks:
        hint = "untick the items to run" if ticked else "start each task with '## ' or '- [ ] '"
        raise _fail(source, 1, f"no tasks found ({hint})")
    if len(tasks) > MAX_TASKS:
        line = tasks[MAX_TASKS].line
        raise _fail(source, line, f"more than {MAX_TASKS} tasks (split the plan into parts)")
    context = "\n".join(line.text for line in loose).strip()
    return PlanDoc(context=context, tasks=tasks)


def load_plan(path: Path) -> PlanDoc:
    """Read and parse a plan file."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise _fail(source, None, "file not found (check the path)") from None
    except OSError as exc:
        raise _fail(source, None, f"cannot read it: {exc.strerror} (check the path)") from None
    if len(data) > MAX_PLAN_BYTES:
        raise _fail(source, 1, "plan is over the 1 MiB limit (split it into parts)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _fail(source, line, "not valid UTF-8 (save the file as UTF-8)") from None
    return parse_plan(text, source)
