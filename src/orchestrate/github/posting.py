"""Posting a review: exactly one review (event COMMENT) and one sticky summary comment that later
runs edit in place. Earlier state is read only from comments the bot itself wrote."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from github.IssueComment import IssueComment
from github.PullRequest import PullRequest, ReviewComment
from github.Repository import Repository
from pydantic import BaseModel

from github import GithubException
from orchestrate.exceptions import GitHubError, ReadOnlyTokenError
from orchestrate.github import marker
from orchestrate.github.marker import ReviewState
from orchestrate.github.pull_request import github_error
from orchestrate.github.runner_output import mask

REVIEW_EVENT = "COMMENT"
"""The only event posted: a bot's review informs, it never approves or blocks a merge."""
INTEGRATION_DENIED = "Resource not accessible by integration"
"""GitHub's 403 message when an installation token may not write: always so for the read-only
token of a fork's `pull_request` run
(https://docs.github.com/actions/reference/github_token-reference; the 403 body is quoted in
https://github.com/peter-evans/create-or-update-comment/issues/188)."""
_FINGERPRINT = re.compile(r"<!-- orchestrate-fp:([0-9a-f]{8,64}) -->")


class InlineComment(BaseModel):
    """One inline comment on the new side of the diff."""

    path: str
    """File."""
    line: int
    """New-side line, already checked against the diff."""
    body: str
    """Rendered Markdown, ending in its fingerprint tag."""


class PostedReview(BaseModel):
    """What was posted."""

    url: str
    """Link to the review."""
    inline: int
    """Inline comments in it."""
    folded: bool = False
    """True when GitHub refused the inline comments and they went into the body instead."""


def fingerprint_tag(fingerprint: str) -> str:
    """Hidden text that lets later runs recognise a posted comment even without the summary."""
    return f"<!-- orchestrate-fp:{fingerprint} -->"


def write_error(error: GithubException, action: str) -> GitHubError:
    """The error for a refused write: `ReadOnlyTokenError` when the token cannot write at all."""
    data = error.data if isinstance(error.data, dict) else {}
    if error.status == 403 and data.get("message") == INTEGRATION_DENIED:
        return ReadOnlyTokenError(
            f"GitHub refused to {action} (403 {INTEGRATION_DENIED}): the token is read-only, as "
            "on a fork's `pull_request` run, or lacks `permissions: pull-requests: write`"
        )
    return github_error(error, action)


class Poster:
    """Posts to one pull request as `bot_login`; every body is masked with `env`'s keys too."""

    def __init__(
        self,
        repository: Repository,
        pull: PullRequest,
        bot_login: str,
        env: Mapping[str, str] = os.environ,
    ) -> None:
        self.repository = repository
        self.pull = pull
        self.bot_login = bot_login
        self.env = env
        self._summary: IssueComment | None = None
        self._looked = False

    def summary_comment(self) -> IssueComment | None:
        """The bot's sticky summary, if an earlier run posted one. Comments by anyone else are
        ignored even if they carry a marker: PR authors could forge one to skip the review."""
        if not self._looked:
            try:
                for comment in self.pull.get_issue_comments():
                    if comment.user.login == self.bot_login and marker.PREFIX in comment.body:
                        self._summary = comment
                        break
            except GithubException as error:
                raise github_error(error, "read the pull request's comments") from error
            self._looked = True
        return self._summary

    def previous_state(self) -> ReviewState | None:
        """The state in the bot's summary; None when there is none or it does not decode."""
        comment = self.summary_comment()
        return marker.decode(comment.body) if comment is not None else None

    def posted_fingerprints(self) -> set[str]:
        """Fingerprints of inline comments the bot has already posted on this pull request."""
        try:
            return {
                match
                for comment in self.pull.get_review_comments()
                if comment.user.login == self.bot_login
                for match in _FINGERPRINT.findall(comment.body)
            }
        except GithubException as error:
            raise github_error(error, "read the pull request's review comments") from error

    def post_review(self, head_sha: str, body: str, comments: list[InlineComment]) -> PostedReview:
        """One review on `head_sha`. If GitHub still refuses a line (422: the diff changed under
        us), the same review is posted once more with the comments in its body; a 422 stores
        nothing, so there is still exactly one review."""
        try:
            return self._create(head_sha, body, comments)
        except GithubException as error:
            if error.status != 422 or not comments:
                raise write_error(error, "post the review") from error
        folded = "\n\n".join([body, *(f"**`{c.path}` line {c.line}:** {c.body}" for c in comments)])
        try:
            posted = self._create(head_sha, folded, [])
        except GithubException as error:
            raise write_error(error, "post the review") from error
        return posted.model_copy(update={"folded": True})

    def _create(self, head_sha: str, body: str, comments: list[InlineComment]) -> PostedReview:
        wire: list[ReviewComment] = [
            {"path": c.path, "line": c.line, "side": "RIGHT", "body": mask(c.body, self.env)}
            for c in comments
        ]
        review = self.pull.create_review(
            # A lazy commit: only its SHA is sent, pinning the comments to the diff we checked.
            commit=self.repository.get_commit(head_sha),
            body=mask(body, self.env),
            event=REVIEW_EVENT,
            comments=wire,
        )
        return PostedReview(url=review.html_url, inline=len(comments))

    def upsert_summary(self, body: str) -> str:
        """Edit the bot's summary in place, or create it; returns its URL."""
        existing = self.summary_comment()
        body = mask(body, self.env)  # the summary quotes model errors, which can echo a key
        try:
            if existing is not None:
                existing.edit(body)
                return existing.html_url
            self._summary = self.pull.create_issue_comment(body)
            return self._summary.html_url
        except GithubException as error:
            raise write_error(error, "write the summary comment") from error
