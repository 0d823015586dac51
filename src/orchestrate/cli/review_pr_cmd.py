"""`orchestrate review-pr`: review a pull request and post one review plus a sticky summary.

Re-runs are incremental: the summary's hidden marker holds the last reviewed head and the files
no run could review yet, so only newer commits (and those files) are reviewed, and fingerprints,
so no comment is posted twice. With a read-only token (a fork's `pull_request` run) the review
goes to the job summary instead, with a warning, and the command still succeeds.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import git
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
from orchestrate.github.base_rules import base_rule_files
from orchestrate.github.context import PullRequestContext, resolve_context
from orchestrate.github.identity import token_login
from orchestrate.github.marker import ReviewState
from orchestrate.github.posting import Poster
from orchestrate.github.publish import Publication, draft_review, next_state
from orchestrate.github.pull_request import (
    PULL_FILE_CAP,
    Changes,
    PullRequestInfo,
    PullRequestReader,
    connect,
)
from orchestrate.github.render import SummaryFacts
from orchestrate.github.runner_output import RunnerOutput
from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.review.findings import ReviewOutcome
from orchestrate.review.instructions import NO_REVIEW_RULES, ReviewRules
from orchestrate.review.limits import ReviewLimits
from orchestrate.review.pipeline import review_patches
from orchestrate.review.pipeline_config import PipelineConfig, load_pipeline, require_agents
from orchestrate.routing.budget import Budget
from orchestrate.routing.router import Router

__all__ = ["ReviewPrOptions", "review_pr"]

_NOT_REVIEWED = (NoModelAvailableError, PrivacyBlockedError, BudgetExceededError)


def review_pr(options: ReviewPrOptions, env: Mapping[str, str] = os.environ) -> int:
    """Review the pull request; 0 when a review or a clear notice was posted (or reported)."""
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
    client = connect(context)
    reader = PullRequestReader(client, context.repo, context.number)
    info = reader.info()
    # The Action checks out the PR's base commit: its agents/ is the repository owner's, not the
    # PR author's. Any other checkout's agents/ counts only once the user trusted it.
    trusted = _checkout_is(options.workdir, info.base_sha)
    config = load_config(options.workdir, options.agents, trust_repo=trusted)
    for note in config.notes:
        print(f"warning: {note}", file=sys.stderr)
    require_agents(pipeline, config.agents)
    config = with_step_models(config, pipeline, options.step_models)
    limits = limits_for(pipeline, options)
    fork = info.is_fork or context.is_fork
    local_only, notice = key_policy(config, pipeline, env, options, fork=fork)
    poster = Poster(reader.repository, reader.pull, token_login(client, options.bot_login), env)
    state = poster.previous_state() or ReviewState()
    changes = reader.changes(info, state)
    output = RunnerOutput(env)
    if changes.scope == "none":
        output.say(f"nothing new since the last review of {info.head_sha[:7]}; nothing posted")
        return 0
    rules, unread = _base_rules(reader, info, changes)
    run = _Run(options, config, pipeline, limits, info, changes, local_only, rules)
    outcome, failure = run.models(reader.commit_messages() if changes.files else [])
    gap = _nothing_reviewed(changes, outcome, failure)
    notices = [n for n in (notice, changes.note, _unlisted(changes), unread, gap) if n]
    publication = _publication(
        info, changes, state, outcome, poster=poster, limits=limits, notices=notices
    )
    delivery = publication.deliver(
        poster, output, dry_run=options.dry_run, read_only=context.read_only
    )
    if notices and not delivery.read_only:
        output.warning(" ".join(notices))
    output.outputs(
        {
            "review-url": delivery.review_url,
            "cloud-cost": f"{outcome.cloud_usd if outcome else 0.0:.4f}",
            "savings": f"{outcome.savings_usd if outcome else 0.0:.4f}",
        }
    )
    return 0


def _base_rules(
    reader: PullRequestReader, info: PullRequestInfo, changes: Changes
) -> tuple[ReviewRules, str | None]:
    """The instructions files at the BASE commit for the files to review (never the head's: a
    pull request must not write the rules of its own review); a notice when they could not be
    read, and the review goes on without them."""
    if not changes.files:
        return NO_REVIEW_RULES, None
    paths = [patch.path for patch in changes.files]
    try:
        return ReviewRules(base_rule_files(reader.repository, info.base_sha, paths)), None
    except GitHubError as error:
        return NO_REVIEW_RULES, (
            f"The repository's instructions files (AGENTS.md and the like) could not be read at "
            f"the base commit, so the reviewers did not get them: {error}"
        )


def _checkout_is(workdir: Path, sha: str) -> bool:
    """Whether `workdir` is a git checkout of exactly commit `sha`."""
    try:
        head = git.Git(workdir).rev_parse("HEAD")
    except git.CommandError:  # not a repository, no commit, or no git at all
        return False
    return str(head) == sha


def _publication(
    info: PullRequestInfo,
    changes: Changes,
    state: ReviewState,
    outcome: ReviewOutcome | None,
    *,
    poster: Poster,
    limits: ReviewLimits,
    notices: list[str],
) -> Publication:
    """The review of the findings not posted before, and the marker that follows it."""
    findings = outcome.findings if outcome else []
    known = set(state.fingerprints) | (poster.posted_fingerprints() if findings else set())
    fresh = [f for f in findings if f.fingerprint() not in known]
    draft = draft_review(info.head_sha, fresh, changes.pr_files, limits.max_comments)
    facts = SummaryFacts(
        head_sha=info.head_sha,
        scope=changes.scope,
        since_sha=changes.since_sha,
        retried=len(changes.retried),
        repeated=len(findings) - len(fresh),
        findings=draft.listed,
        notices=notices,
    )
    pr_paths = {patch.path for patch in changes.pr_files}
    new_state = next_state(state, info.head_sha, outcome, draft.listed, pr_paths)
    return Publication(info.head_sha, draft, facts, outcome, new_state)


def _unlisted(changes: Changes) -> str | None:
    if not changes.unlisted:
        return None
    return (
        f"GitHub lists at most {PULL_FILE_CAP:,} files of a pull request; {changes.unlisted} more "
        "changed file(s) were not listed, so they were not reviewed."
    )


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
    limits: ReviewLimits
    info: PullRequestInfo
    changes: Changes
    local_only: bool
    rules: ReviewRules

    def models(self, commits: Sequence[tuple[str, str]]) -> tuple[ReviewOutcome | None, str | None]:
        """The pipeline's outcome, or why no model could review at all."""
        if not self.changes.files:
            # New commits that touch no file of the diff (say, a merge of the base branch).
            return ReviewOutcome(summary="The new commits change no file of this diff."), None
        try:
            return asyncio.run(self._review(commits)), None
        except _NOT_REVIEWED as error:
            return None, str(error)

    async def _review(self, commits: Sequence[tuple[str, str]]) -> ReviewOutcome:
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
                    limits=self.limits,
                    local_only=self.local_only,
                    commits=commits,
                    rules=self.rules,
                )
            finally:
                await router.aclose()
