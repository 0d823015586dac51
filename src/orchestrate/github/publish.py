"""One run's review as it is delivered: inline comments on lines GitHub accepts (at most
`max_comments`, the most serious first), a review body with every other finding, and the sticky
summary whose marker moves only past what was reviewed. When the token cannot write (a fork's
`pull_request` run), the same review goes to the job summary with a warning instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from orchestrate.exceptions import ReadOnlyTokenError
from orchestrate.github import marker
from orchestrate.github.anchoring import Placed, anchor
from orchestrate.github.marker import ReviewState
from orchestrate.github.patch import FilePatch
from orchestrate.github.posting import InlineComment, Poster
from orchestrate.github.render import (
    SummaryFacts,
    comment_body,
    job_report,
    review_body,
    summary_body,
)
from orchestrate.github.runner_output import RunnerOutput
from orchestrate.review.findings import SEVERITY_RANK, Finding, ReviewOutcome

_SOURCE_RANK = {"deep": 2, "scan": 1}
READ_ONLY_WHY = (
    "This pull request comes from a fork, and GitHub gives a `pull_request` run from a fork a "
    "read-only token, so nothing was posted to the pull request: the review is below. To post "
    "reviews on fork pull requests, use the README's recipe (`pull_request_target` with the base "
    "checkout only, or `workflow_run`)."
)


class Draft(BaseModel):
    """What the review will hold."""

    body: str
    comments: list[InlineComment]
    listed: list[Finding]
    """The new findings it shows, inline or in the body: these count as posted."""


def draft_review(
    head_sha: str, fresh: Sequence[Finding], pr_files: Sequence[FilePatch], max_comments: int
) -> Draft:
    """Anchor `fresh` on the pull request's diff; the `max_comments` most serious placed findings
    become inline comments, everything else is listed in the body."""
    placed = anchor(fresh, pr_files)
    ranked = sorted(placed.placed, key=_priority)
    inline, overflow = ranked[:max_comments], ranked[max_comments:]
    comments = [
        InlineComment(path=p.finding.path, line=p.line, body=comment_body(p)) for p in inline
    ]
    text = review_body(
        head_sha,
        len(comments),
        placed.unplaced,
        [p.finding for p in overflow],
        diff_paths={patch.path for patch in pr_files},
    )
    return Draft(
        body=text.body, comments=comments, listed=[*(p.finding for p in inline), *text.listed]
    )


def _priority(placed: Placed) -> tuple[int, int, str, int]:
    finding = placed.finding
    rank = _SOURCE_RANK.get(finding.source, 0)
    return (-SEVERITY_RANK[finding.severity], -rank, finding.path, placed.line)


def next_state(
    state: ReviewState,
    head_sha: str,
    outcome: ReviewOutcome | None,
    listed: Sequence[Finding],
    pr_paths: set[str],
) -> ReviewState:
    """The marker after this run: the head moves to `head_sha` only if the models ran, carrying
    the files they could not review (`pending`), so no later run passes over them."""
    posted = [finding.fingerprint() for finding in listed]
    if outcome is None:
        return state.with_run(state.head_sha, posted, state.pending)
    pending = [path for path in outcome.pending() if path in pr_paths]
    return state.with_run(head_sha, posted, pending)


@dataclass
class Delivery:
    """Where the review went."""

    review_url: str = ""
    summary: str = ""
    read_only: bool = False
    printed: list[str] = field(default_factory=list)


@dataclass
class Publication:
    """One run's review, ready to deliver."""

    head_sha: str
    draft: Draft
    facts: SummaryFacts
    outcome: ReviewOutcome | None
    state: ReviewState
    """The marker to write when the review is posted."""

    def summary(self, review_url: str = "") -> str:
        """The sticky summary, with the marker."""
        facts = self.facts.model_copy(
            update={"review_url": review_url or None, "new_findings": len(self.draft.listed)}
        )
        return summary_body(facts, self.outcome, marker.encode(self.state))

    def deliver(
        self, poster: Poster, output: RunnerOutput, *, dry_run: bool, read_only: bool
    ) -> Delivery:
        """Post it, print it (dry run), or, when the token cannot write, report it in the job
        summary with a warning. Only a posted review moves the marker."""
        if read_only:
            return self._report(output, READ_ONLY_WHY)
        if dry_run:
            output.say(self.draft.body)
            for comment in self.draft.comments:
                output.say(f"\n--- {comment.path}:{comment.line}\n{comment.body}")
            summary = self.summary()
            output.say(summary)
            return Delivery(summary=summary)
        try:
            return self._post(poster, output)
        except ReadOnlyTokenError as error:
            return self._report(output, f"{error}. Nothing more was posted: the review is below.")

    def _post(self, poster: Poster, output: RunnerOutput) -> Delivery:
        url = ""
        if self.draft.listed:
            url = poster.post_review(self.head_sha, self.draft.body, self.draft.comments).url
            output.say(f"review: {url}")
        summary = self.summary(url)
        output.say(f"summary: {poster.upsert_summary(summary)}")
        output.job_summary(summary.split("\n\n", 1)[-1])  # without the hidden marker
        return Delivery(review_url=url, summary=summary)

    def _report(self, output: RunnerOutput, why: str) -> Delivery:
        report = job_report(self.summary(), self.draft.listed, why)
        if not output.job_summary(report):
            output.say(report)
        output.warning(why)
        return Delivery(summary=report, read_only=True)
