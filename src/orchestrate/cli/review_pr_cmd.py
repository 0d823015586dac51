"""`orchestrate review-pr`: review a pull request and post one review plus a sticky summary.

Re-runs are incremental: the summary's hidden marker holds the last reviewed head, so only newer
commits are reviewed, and fingerprints, so no comment is posted twice.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from orchestrate.cli.review_pr_setup import (
    ReviewPrOptions,
    key_policy,
    limits_for,
    with_step_models,
)
from orchestrate.config.loader import load_config
from orchestrate.config.schema import OrchestrateConfig
from orchestrate.exceptions import (
    BudgetExceededError,
    GitHubError,
    NoModelAvailableError,
    PrivacyBlockedError,
)
from orchestrate.github import marker
from orchestrate.github.anchoring import anchor
from orchestrate.github.context import PullRequestContext, resolve_context
from orchestrate.github.marker import ReviewState
from orchestrate.github.posting import InlineComment, Poster
from orchestrate.github.pull_request import (
    Changes,
    PullRequestInfo,
    PullRequestReader,
    connect,
)
from orchestrate.github.render import (
    SummaryFacts,
    comment_body,
    review_body,
    summary_body,
)
from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.review.findings import Finding, ReviewOutcome
from orchestrate.review.pipeline import review_patches
from orchestrate.review.pipeline_config import PipelineConfig, load_pipeline, require_agents
from orchestrate.routing.budget import Budget
from orchestrate.routing.router import Router

__all__ = ["ReviewPrOptions", "review_pr"]

_NOT_REVIEWED = (NoModelAvailableError, PrivacyBlockedError, BudgetExceededError)


@dataclass
class _Published:
    review_url: str = ""
    summary: str = ""
    outcome: ReviewOutcome | None = None


def review_pr(options: ReviewPrOptions, env: Mapping[str, str] = os.environ) -> int:
    """Review the pull request; 0 when a review or a clear notice was posted (or printed)."""
    context = resolve_context(options.repo, options.pr, env)
    try:
        return _review_pr(context, options, env)
    except requests.RequestException as error:  # PyGithub's transport; models use httpx
        raise GitHubError(
            f"cannot reach GitHub at {context.api_url} ({type(error).__name__}); "
            "check GITHUB_API_URL and the network"
        ) from error


def _review_pr(
    context: PullRequestContext, options: ReviewPrOptions, env: Mapping[str, str]
) -> int:
    pipeline = load_pipeline(options.workdir)
    config = load_config(options.workdir, options.agents)
    require_agents(pipeline, config.agents)
    config = with_step_models(config, pipeline, options.step_models)
    reader = PullRequestReader(connect(context), context.repo, context.number)
    info = reader.info()
    fork = info.is_fork or context.is_fork
    local_only, notice = key_policy(config, pipeline, env, options, fork=fork)
    poster = Poster(reader.repository, reader.pull, options.bot_login)
    state = poster.previous_state() or ReviewState()
    changes = reader.changes(info, state.head_sha)
    if changes.scope == "none":
        print(f"nothing new since the last review of {info.head_sha[:7]}; nothing posted")
        return 0
    run = _Run(options, config, pipeline, info, changes, local_only)
    outcome, failure = run.models()
    gap = _nothing_reviewed(changes, outcome, failure)
    notice = " ".join(filter(None, [notice, gap])) or None
    facts = SummaryFacts(
        head_sha=info.head_sha, scope=changes.scope, since_sha=changes.since_sha, notice=notice
    )
    # A run that reviewed nothing leaves the marker's head alone, so the next run tries again.
    published = run.publish(poster, state, outcome, facts, advance=gap is None)
    _write_outputs(env, published, notice)
    return 0


def _nothing_reviewed(
    changes: Changes, outcome: ReviewOutcome | None, failure: str | None
) -> str | None:
    """A notice when the run reviewed nothing, so it never passes for a clean review."""
    if failure is not None:
        return f"Not reviewed: {failure}"
    skipped = {item.path for item in outcome.skipped} if outcome else set()
    paths = {patch.path for patch in changes.files}
    if paths and paths <= skipped:
        return "Every file was skipped or only partly reviewed; the reasons are listed below."
    return None


@dataclass(frozen=True)
class _Run:
    """One review of one pull request's changes."""

    options: ReviewPrOptions
    config: OrchestrateConfig
    pipeline: PipelineConfig
    info: PullRequestInfo
    changes: Changes
    local_only: bool

    def models(self) -> tuple[ReviewOutcome | None, str | None]:
        """The pipeline's outcome, or why no model could review at all."""
        if not self.changes.files:
            # New commits that touch no file of the diff (say, a merge of the base branch).
            return ReviewOutcome(summary="The new commits change no file of this diff."), None
        try:
            return asyncio.run(self._review()), None
        except _NOT_REVIEWED as error:
            return None, str(error)

    async def _review(self) -> ReviewOutcome:
        limits = limits_for(self.pipeline, self.options)
        with Ledger(default_ledger_path(self.options.workdir)) as ledger:
            run_id = f"review-pr-{self.info.number}-{self.info.head_sha[:7]}"
            budget = Budget(self.options.budget)
            router = Router(self.config, ledger, budget=budget, run_id=run_id)
            try:
                return await review_patches(
                    self.changes.files,
                    title=self.info.title,
                    body=self.info.body,
                    config=self.config,
                    router=router,
                    pipeline=self.pipeline,
                    limits=limits,
                    local_only=self.local_only,
                )
            finally:
                await router.aclose()

    def publish(
        self,
        poster: Poster,
        state: ReviewState,
        outcome: ReviewOutcome | None,
        facts: SummaryFacts,
        *,
        advance: bool,
    ) -> _Published:
        """Post the review of new findings (if any) and the summary. A failed review keeps the
        old marker, so the next run reviews these commits again."""
        published = _Published(outcome=outcome)
        new_state = state
        if outcome is not None:
            known = set(state.fingerprints) | poster.posted_fingerprints()
            fresh = [f for f in outcome.findings if f.fingerprint() not in known]
            published.review_url = self._post_review(poster, fresh)
            facts = facts.model_copy(
                update={
                    "new_findings": len(fresh),
                    "repeated": len(outcome.findings) - len(fresh),
                    "review_url": published.review_url or None,
                    "findings": fresh,
                }
            )
            head = self.info.head_sha if advance else state.head_sha
            new_state = state.with_run(head, [f.fingerprint() for f in fresh])
        published.summary = summary_body(facts, outcome, marker.encode(new_state))
        if self.options.dry_run:
            print(published.summary)
        else:
            print(f"summary: {poster.upsert_summary(published.summary)}")
        return published

    def _post_review(self, poster: Poster, fresh: list[Finding]) -> str:
        """One review of the new findings; nothing when there are none."""
        if not fresh:
            return ""
        placed = anchor(fresh, self.changes.pr_files)
        comments = [
            InlineComment(path=p.finding.path, line=p.line, body=comment_body(p))
            for p in placed.placed
        ]
        body = review_body(self.info.head_sha, len(comments), placed.unplaced)
        if self.options.dry_run:
            _print_review(body, comments)
            return ""
        url = poster.post_review(self.info.head_sha, body, comments).url
        print(f"review: {url}")
        return url


def _print_review(body: str, comments: list[InlineComment]) -> None:
    print(body)
    for comment in comments:
        print(f"\n--- {comment.path}:{comment.line}\n{comment.body}")


def _write_outputs(env: Mapping[str, str], published: _Published, notice: str | None) -> None:
    """Action outputs and the job summary, when running under GitHub Actions."""
    outcome = published.outcome
    if notice and env.get("GITHUB_ACTIONS") == "true":
        print(f"::warning::{notice}")
    output = env.get("GITHUB_OUTPUT")
    if output:
        cloud = outcome.cloud_usd if outcome else 0.0
        savings = outcome.savings_usd if outcome else 0.0
        with Path(output).open("a", encoding="utf-8") as sink:
            sink.write(f"review-url={published.review_url}\n")
            sink.write(f"cloud-cost={cloud:.4f}\nsavings={savings:.4f}\n")
    step_summary = env.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        text = published.summary.split("\n\n", 1)[-1]  # without the hidden marker
        with Path(step_summary).open("a", encoding="utf-8") as sink:
            sink.write(text + "\n")
