"""How a `--repos` run is carried out, what the command line watches, and the session each
repository runs in."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrate.batching.queue import BatchQueue
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import EngineOptions
from orchestrate.engine.plan_md import PlanDoc
from orchestrate.engine.sensitive_changes import BatchChangePolicy
from orchestrate.engine.session import Session
from orchestrate.events import Event
from orchestrate.fleet.checkout import GitHubAccess
from orchestrate.fleet.record import FleetRecord


@dataclass(frozen=True)
class FleetOptions:
    """How every repository's run is carried out."""

    engine: EngineOptions = field(default_factory=EngineOptions)
    """The same options a single-repository run takes."""
    max_repos: int = 2
    """Repositories worked on at once."""
    agents: Path | None = None
    """`--agents`, for every repository (each one's own `agents/` still applies)."""
    ledger: Path | None = None
    """One ledger for all; None: each repository's own."""
    budget: float | None = None
    """`--budget`, for each repository's runs."""
    dry_run: bool = False
    """Plan only."""
    github: GitHubAccess = field(default_factory=GitHubAccess)
    """API root and token for cloning and pull requests."""
    trust_model_checks: bool = False
    """`--trust-model-checks`: commands the planner or a reviewer wrote run without asking."""
    trust_repo_config: bool = False
    """`--trust-repo-config`: each listed repository's own `agents/` is the user's (it may say
    where keys go and what is private), as `orchestrate trust` would make it."""
    allow_sensitive_changes: bool = False
    """`--allow-sensitive-changes`: edits adding workflows, hooks or our keys are committed."""
    cloud_batch: bool = False
    """Plans and reviews through the vendors' Batch APIs; every repository is planned first, at
    once, so their plans go in one batch."""


class FleetHooks:
    """What the command line watches: overridden by the progress printer."""

    async def routes(self, repo: str, session: Session, doc: PlanDoc) -> Mapping[str, str | None]:
        """Check the repository's agents can run `doc` (raise if not); the model each gets."""
        return {}

    def event(self, repo: str, event: Event) -> None:
        """One event of one repository's runs."""

    def line(self, repo: str, text: str) -> None:
        """One line about a repository (started, finished, pull request opened)."""


@dataclass(frozen=True)
class FleetRun:
    """One `--repos` run being carried out: its record, options, watcher and batch queue."""

    record: FleetRecord
    options: FleetOptions
    hooks: FleetHooks
    batch: BatchQueue | None = None
    """`--cloud-batch`: the queue every repository's sessions share."""


async def open_session(checkout: Path, options: FleetOptions, batch: BatchQueue | None) -> Session:
    """The repository's session, as a single-repository run opens it (the same command
    approval); with `--cloud-batch`, on the queue every repository shares."""
    session = await asyncio.to_thread(
        Session.open,
        checkout,
        agents_dir=options.agents,
        ledger_path=options.ledger,
        budget_usd=options.budget,
        options=options.engine,
        trust_repo=options.trust_repo_config,
    )
    # The batch policy, as in a single repository's run.
    session.approve = BatchPolicy(session.config.checks.allow, options.trust_model_checks)
    session.approve_changes = BatchChangePolicy(options.allow_sensitive_changes)
    session.batch = batch
    return session
