"""One file's diff, syntax highlighted, with the reviewer's comments under the lines they concern."""

from __future__ import annotations

from collections.abc import Sequence

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from orchestrate.engine.review import ReviewComment
from orchestrate.tui.diff_parse import DiffLine, FileDiff

_BACKGROUND = {"add": "on #12301a", "remove": "on #3a1616"}
_MARKER = {"add": "+", "remove": "-", "context": " "}
SEVERITY_STYLE = {"info": "bold cyan", "warning": "bold yellow", "error": "bold red"}
_THEME = "monokai"


def _highlighted(path: str, lines: Sequence[DiffLine]) -> list[Text]:
    code = "\n".join(line.text for line in lines)
    # By file name only: guessing from the code too would load every lexer pygments has.
    lexer = Syntax.guess_lexer(path)
    # One pass over the whole file's lines keeps multi-line strings and comments coloured right.
    text = Syntax(code, lexer, theme=_THEME).highlight(code)
    text.rstrip()
    parts = text.split("\n", allow_blank=True)
    return [*parts, *[Text() for _ in range(len(lines) - len(parts))]]


def comment_text(comment: ReviewComment, indent: int) -> Text:
    """A comment as shown in the diff: severity, then the remark."""
    return Text.assemble(
        " " * indent,
        ("▲ " if comment.line else "● ", SEVERITY_STYLE[comment.severity]),
        (f"{comment.severity}: ", SEVERITY_STYLE[comment.severity]),
        comment.body,
    )


def render_file(diff: FileDiff, comments: Sequence[ReviewComment]) -> Text:
    """The file's diff as text: numbers, marker, highlighted code; comments after their line."""
    body = [line for line in diff.lines if line.kind in _MARKER]
    highlighted = iter(_highlighted(diff.path, body))
    by_line: dict[int, list[ReviewComment]] = {}
    for comment in comments:
        by_line.setdefault(comment.line or 0, []).append(comment)
    out = Text()
    for comment in by_line.pop(0, []):
        out.append_text(comment_text(comment, 0))
        out.append("\n")
    for line in diff.lines:
        if line.kind not in _MARKER:
            out.append(line.text + "\n", style="bold blue" if line.kind == "hunk" else "dim")
            continue
        old = "" if line.old is None else str(line.old)
        new = "" if line.new is None else str(line.new)
        row = Text(f"{old:>4} {new:>4} {_MARKER[line.kind]} ", style="dim")
        row.append_text(next(highlighted))
        row.stylize(_BACKGROUND.get(line.kind, ""))
        out.append_text(row)
        out.append("\n")
        if line.new is not None and line.kind != "remove":
            for comment in by_line.pop(line.new, []):
                out.append_text(comment_text(comment, 12))
                out.append("\n")
    # Comments on lines the diff does not show still belong with this file.
    for line_no in sorted(by_line):
        for comment in by_line[line_no]:
            out.append_text(Text(f"line {line_no}: ", style="dim"))
            out.append_text(comment_text(comment, 0))
            out.append("\n")
    return out


class DiffView(VerticalScroll):
    """Scrollable view of one file's diff."""

    def compose(self) -> ComposeResult:
        yield Static("no file selected", classes="diff-text")

    def show(self, diff: FileDiff, comments: Sequence[ReviewComment]) -> None:
        """Show `diff` with `comments` in place."""
        self.query_one(".diff-text", Static).update(render_file(diff, comments))
        self.scroll_home(animate=False)
