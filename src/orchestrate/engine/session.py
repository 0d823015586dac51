"""Everything a run needs, wired once: config, ledger, budget, event bus, and an engine per run.

The `run` command and the TUI both build their runs here, and nowhere else. Each run gets its own
router (the router stamps every ledger row and event with its run id) while the ledger, the
budget, the cooldowns and the event bus are shared, so a cap holds across a whole batch, and a
per-run cap starts again with each new run.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType

import git

from orchestrate.batching.queue import BatchQueue
from orchestrate.config.loader import load_config
from orchestrate.config.schema import OrchestrateConfig
from orchestrate.engine.commands import CommandApproval, refuse_all
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.engine.result import RunResult
from orchestrate.engine.run_files import RepoFiles
from orchestrate.engine.sensitive_changes import ChangeApproval, refuse_changes
from orchestrate.engine.workspace import Workspace
from orchestrate.events import EventBus
from orchestrate.exceptions import RepoError, StorageError
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import AttemptRecord, Ledger, default_ledger_path
from orchestrate.os_errors import storage_error
from orchestrate.routing.budget import Budget
from orchestrate.routing.cooldown import Cooldowns
from orchestrate.routing.degradation import DegradationWatch, degraded_lines
from orchestrate.routing.replay import ReplayStore
from orchestrate.routing.router import Router
from orchestrate.sandbox.setup import CheckSetup

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_SLUG_MAX = 40


def repo_root(repo: Path) -> Path:
    """The top of the git work tree holding `repo`; `RepoError` if there is none to run in."""
    try:
        handle = git.Repo(repo, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(
            f"{repo} is not a git repository: run `git init` there or pass --repo"
        ) from None
    try:
        if handle.working_tree_dir is None:
            raise RepoError(f"{repo} is a bare repository: pass --repo with a checkout")
        if not handle.head.is_valid():
            raise RepoError(
                f"{repo} has no commits yet: make a first commit (`git commit --allow-empty -m init`)"
            )
        return Path(handle.working_tree_dir).resolve()
    finally:
        handle.close()


def new_run_id(title: str, index: int, now: float | None = None) -> str:
    """`20250101-120000-1-add-greeting`: sortable, readable, and unique within a batch."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    slug = _SLUG_CHARS.sub("-", title.lower()).strip("-")[:_SLUG_MAX].strip("-") or "task"
    return f"{stamp}-{index}-{slug}"


def with_context(task: TaskSpec, context: str) -> TaskSpec:
    """The task with the plan's introduction appended, so planner and reviewer both see it."""
    if not context.strip():
        return task
    instructions = f"{task.instructions}\n\nFrom the plan's introduction:\n{context.strip()}"
    return task.model_copy(update={"instructions": instructions})


def _ignore_ledger_dir(folder: Path) -> None:
    """Keep the repo's `.orchestrate/` out of `git status`, as tools' cache folders do."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Written by orchestrate: its ledger is local state, not source.\n*\n")


class Session:
    """Config, ledger, budget and bus for a batch of runs in one repository."""

    def __init__(
        self,
        config: OrchestrateConfig,
        repo: Path,
        ledger: Ledger,
        *,
        budget: Budget | None = None,
        options: EngineOptions | None = None,
        events: EventBus | None = None,
        stream_tokens: bool = False,
    ) -> None:
        self.config = config
        self.repo = repo
        self.ledger = ledger
        self.budget = budget or Budget(None)
        self.options = options or EngineOptions()
        self.events = events or EventBus()
        self.cooldowns = Cooldowns()
        self.pricer = Pricer.from_config(config)
        # Every display hears when an agent falls to a model below what was set up for it.
        self.events.subscribe(DegradationWatch(config, self.events))
        self.stream_tokens = stream_tokens
        """Routers emit what models write as they write it (the TUI's log panes show it)."""
        self._budget_run: str | None = None
        self.checks = CheckSetup(config.checks, repo)
        """How every run of this session runs its checks."""
        self.approve: CommandApproval = refuse_all
        """Asked before a command a model wrote may run: the CLI sets its policy (flag and
        allow-list), the TUI its dialog; by default nothing a model wrote runs."""
        self.batch: BatchQueue | None = None
        """`--cloud-batch`: the queue the calls that can wait go through (shared by every
        repository of a `--repos` run, so their plans go in one batch)."""
        self.approve_changes: ChangeApproval = refuse_changes
        """Asked before an edit adding a workflow, a hook or one of our keys is committed."""

    @classmethod
    def open(
        cls,
        repo: Path,
        *,
        agents_dir: Path | None = None,
        ledger_path: Path | None = None,
        budget_usd: float | None = None,
        options: EngineOptions | None = None,
        trust_repo: bool = False,
    ) -> Session:
        """Check the repo, load the layered config and open the ledger (default under the repo).
        `trust_repo`: the caller vouches for the repository's own `agents/` (see `load_config`)."""
        root = repo_root(repo)
        config = load_config(root, agents_dir, trust_repo=trust_repo)
        if ledger_path is None:
            ledger_path = default_ledger_path(root)
            _ignore_ledger_dir(ledger_path.parent)
        ledger = Ledger(ledger_path)
        budget = Budget.from_config(config.budget, ledger, budget_usd)
        return cls(config, root, ledger, budget=budget, options=options)

    def router(self, run_id: str, replay: ReplayStore | None = None) -> Router:
        """A router for one run, sharing this session's ledger, bus, budget and cooldowns."""
        return Router(
            self.config,
            self.ledger,
            events=self.events,
            budget=self.budget,
            cooldowns=self.cooldowns,
            run_id=run_id,
            replay=replay,
            stream_tokens=self.stream_tokens,
            batch=self.batch,
        )

    def _begin(self, run_id: str) -> None:
        """Per-run caps start again when work begins on a run other than the last one.

        A run planned first and carried out later (the TUI's plan, then approve) is one run.
        """
        if run_id != self._budget_run:
            self.budget.start_run()
            self._budget_run = run_id

    def engine(self, router: Router) -> Engine:
        """An engine for one run, over `router`, sharing this session's settings."""
        return Engine(
            self.config,
            router,
            self.repo,
            events=self.events,
            options=self.options,
            checks=self.checks,
            approve=self.approve,
            approve_changes=self.approve_changes,
        )

    def degraded(self, attempts: Iterable[AttemptRecord]) -> list[str]:
        """The run's degradations, from its ledger rows: a line each, for its report."""
        return degraded_lines(self.config, attempts)

    def budget_note(self) -> str:
        """What the budget did in the last run, if a cap refused a call; else empty."""
        hit = self.budget.hit
        return hit.note() if hit is not None else ""

    async def run(
        self,
        task: TaskSpec,
        run_id: str,
        *,
        plan: Plan | None = None,
        continues: str | None = None,
        start: str | None = None,
    ) -> RunResult:
        """Carry out one task on its own branch: with `plan`, the one the user approved; with
        `continues`, building on that earlier run's branch (work sent back); with `start`,
        branching from that commit instead of HEAD."""
        return await self._carry_out(
            run_id,
            lambda engine: engine.run(task, run_id, plan=plan, continues=continues, start=start),
        )

    async def resume(self, run_id: str) -> RunResult:
        """Finish a run a killed process left, replaying the answers it already paid for."""
        return await self._carry_out(run_id, lambda engine: engine.resume(run_id))

    async def _carry_out(
        self, run_id: str, step: Callable[[Engine], Awaitable[RunResult]]
    ) -> RunResult:
        self._begin(run_id)
        files = RepoFiles.of(self.repo).run(run_id)
        try:
            router = self.router(run_id, ReplayStore(files.responses))
            engine = self.engine(router)
            try:
                return await step(engine)
            finally:
                await router.aclose()
        except (StorageError, OSError, git.GitCommandError) as error:
            storage = storage_error(error)
            if storage is None:
                raise
            # A full disk or a read-only file stops the run where it is; once fixed, it resumes.
            raise (storage.then_resume(run_id) if files.state.exists() else storage) from None

    async def plan(self, task: TaskSpec, run_id: str, continues: str | None = None) -> Plan:
        """The planner's plan for `task`, editing nothing; what it cost is in the ledger under
        `run_id`. With `continues` it plans against that earlier run's branch, where the work
        will happen. Raises one of `RUN_ERRORS` when no plan could be made."""
        self._begin(run_id)
        root = None
        if continues is not None:
            earlier = await asyncio.to_thread(Workspace.open, self.repo, continues)
            root = earlier.path
        router = self.router(run_id)
        engine = self.engine(router)
        try:
            return await engine.plan(task, root, run_id=run_id)
        finally:
            await router.aclose()

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
