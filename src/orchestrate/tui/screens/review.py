"""The run's diff per file with the reviewer's verdict and comments; accept or send back."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from orchestrate.engine.review import Review
from orchestrate.tui.diff_parse import FileDiff
from orchestrate.tui.messages import Accepted, SentBack
from orchestrate.tui.screens.dialogs import ConfirmDialog, RemarkDialog
from orchestrate.tui.widgets.cost_bar import CostBar
from orchestrate.tui.widgets.diff_view import DiffView, comment_text

VERDICT_STYLE = {"approve": "bold green", "request_changes": "bold yellow"}
_STANDING: dict[str | None, str] = {
    None: "unfinished",
    "past": "a past run whose outcome was not kept",
}


def verdict_text(review: Review | None, outcome: str) -> Text:
    """The verdict panel: outcome, verdict, summary, then every comment with its place."""
    text = Text(outcome + "\n\n", style="bold")
    if review is None:
        text.append("No review for this run.", style="dim")
        return text
    text.append(review.verdict.replace("_", " "), style=VERDICT_STYLE[review.verdict])
    text.append(f"\n{review.summary}\n")
    for comment in review.comments:
        where = f"{comment.path}:{comment.line}" if comment.line else comment.path
        text.append(f"\n{where}\n", style="dim")
        text.append_text(comment_text(comment, 0))
        text.append("\n")
    return text


def review_remark(review: Review | None) -> str:
    """What the reviewer said, as the start of a remark sent back to the planner."""
    if review is None:
        return ""
    lines = [f"The reviewer ({review.verdict.replace('_', ' ')}): {review.summary}"]
    for comment in review.comments:
        where = f"{comment.path}:{comment.line}" if comment.line else comment.path
        lines.append(f"- {where} ({comment.severity}): {comment.body}")
    for follow_up in review.follow_ups:
        lines.append(f"- suggested follow-up {follow_up.id}: {follow_up.title}")
    return "\n".join(lines) + "\n\n"


class ReviewScreen(Screen[None]):
    """Pick a file on the left; its diff in the middle; the verdict on the right."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept(False)", "Keep branch"),
        Binding("m", "accept(True)", "Merge"),
        Binding("s", "send_back", "Send back"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self,
        run_id: str,
        files: list[FileDiff],
        review: Review | None,
        outcome: str,
        status: str | None = None,
    ) -> None:
        """`status`: how the run ended (`approved`, `failed`, ...); None while unfinished."""
        super().__init__()
        self.run_id, self.files, self.review, self.outcome = run_id, files, review, outcome
        self.status = status

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Run {self.run_id}: branch orchestrate/{self.run_id}", classes="banner")
        with Horizontal(id="review-body"):
            yield OptionList(*self._options(), id="files")
            yield DiffView(id="diff")
            with VerticalScroll(id="verdict-pane"):
                yield Static(verdict_text(self.review, self.outcome), id="verdict")
        yield CostBar(id="cost")
        yield Footer()

    def _options(self) -> list[Option]:
        if not self.files:
            return [Option("(no changes)", disabled=True)]
        return [
            Option(Text.assemble(f.path, (f" +{f.added}", "green"), (f" -{f.removed}", "red")))
            for f in self.files
        ]

    def on_mount(self) -> None:
        files = self.query_one("#files", OptionList)
        files.focus()
        if self.files:
            files.highlighted = 0
            self._show(0)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def _show(self, index: int) -> None:
        if not 0 <= index < len(self.files):
            return
        diff = self.files[index]
        comments = [c for c in self.review.comments if c.path == diff.path] if self.review else []
        self.query_one(DiffView).show(diff, comments)

    def action_accept(self, merge: bool) -> None:
        if self.status == "approved":
            self.post_message(Accepted(self.run_id, merge))
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.post_message(Accepted(self.run_id, merge))

        state = _STANDING.get(self.status) or str(self.status).replace("_", " ")
        doing = "Merge it into your branch" if merge else "Keep its branch and drop its worktree"
        detail = "" if self.status else "Without its worktree it can no longer be resumed."
        self.app.push_screen(
            ConfirmDialog(f"Run {self.run_id} is {state}. {doing}?", detail), answer
        )

    def action_send_back(self) -> None:
        def send(remark: str | None) -> None:
            if remark:
                self.post_message(SentBack(self.run_id, remark))

        prompt = "What should change? The review is below: keep it, edit it, add to it."
        self.app.push_screen(RemarkDialog(prompt, review_remark(self.review)), send)

    def action_back(self) -> None:
        self.dismiss()
