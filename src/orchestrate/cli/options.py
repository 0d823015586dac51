"""The command line's options, one alias each, so that a command's signature reads as a list.

Typer reads an option's flag and help from its `Annotated` type; the aliases keep those texts
here, beside each other, and each command's parameters on one line apiece.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

AgentsOpt = Annotated[
    Path | None,
    typer.Option("--agents", help="Directory of agent YAML overriding the defaults."),
]
RepoOpt = Annotated[Path, typer.Option("--repo", help="Repository to work in.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Budget = Annotated[
    float | None, typer.Option("--budget", help="Most USD to spend on cloud models.")
]
LocalOnly = Annotated[bool, typer.Option("--local-only", help="Send nothing to cloud models.")]

# `orchestrate run`
PlanArg = Annotated[
    Path | None,
    typer.Argument(help="plan.md: one task per '## ' heading or '- [ ]' item (not with --resume)."),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Plan and estimate the cost; edit nothing.")
]
Concurrency = Annotated[int, typer.Option("--concurrency", help="Subtasks worked on at once.")]
Replans = Annotated[
    int,
    typer.Option(
        "--replans",
        help="Times the planner is asked about a subtask every worker model failed (0: never).",
    ),
]
LedgerFile = Annotated[Path | None, typer.Option("--ledger", help="Ledger file.")]
ReportFile = Annotated[
    Path | None, typer.Option("--report", help="Also write the Markdown report here.")
]
ReportJson = Annotated[
    bool, typer.Option("--json", help="Print the report as JSON instead of Markdown.")
]
LogFile = Annotated[
    Path | None, typer.Option("--log", help="Write every event to this JSON-lines file.")
]
Resume = Annotated[
    str | None,
    typer.Option(
        "--resume", help="Finish the stopped run with this id (and the rest of its plan)."
    ),
]
AcceptUnchecked = Annotated[
    bool,
    typer.Option(
        "--accept-unchecked",
        help="Approve a task with no check: lines on the reviewer's word alone.",
    ),
]
Repos = Annotated[
    Path | None,
    typer.Option("--repos", help="File listing repositories (folders or owner/name), one a line."),
]
MaxRepos = Annotated[
    int, typer.Option("--max-repos", help="With --repos: repositories worked on at once.")
]
OpenPrs = Annotated[
    bool,
    typer.Option("--open-prs", help="With --repos: push approved branches and open pull requests."),
]
SavedPlans = Annotated[
    Path | None,
    typer.Option(
        "--plan",
        help="With --dry-run: save the plans here. Without: carry out exactly the plans "
        "a dry run saved here (no planner is asked).",
    ),
]
AlwaysPlan = Annotated[
    bool,
    typer.Option(
        "--always-plan",
        help="Ask the planner even for a task that names its files and checks (such a "
        "task otherwise runs as written, with no planner call).",
    ),
]
FullReview = Annotated[
    bool,
    typer.Option(
        "--full-review",
        help="Send every change to the full reviewer (without it, a cheap quick reviewer may "
        "approve a small change that checks verified; anything else goes to the full reviewer).",
    ),
]
TrustModelChecks = Annotated[
    bool,
    typer.Option(
        "--trust-model-checks",
        help="Run check commands the planner or reviewer wrote without asking (they still "
        "run sandboxed); without it only plan.md's check: lines and checks.allow run.",
    ),
]
CloudBatch = Annotated[
    bool,
    typer.Option(
        "--cloud-batch",
        help="Plans and reviews through the vendors' Batch APIs: half price, within 24 h.",
    ),
]
TrustRepoConfig = Annotated[
    bool,
    typer.Option(
        "--trust-repo-config",
        help="With --repos: each listed repository's own agents/ may say where keys go and "
        "what is private (as `orchestrate trust` would allow); only for repositories you "
        "control.",
    ),
]
AllowSensitiveChanges = Annotated[
    bool,
    typer.Option(
        "--allow-sensitive-changes",
        help="Commit edits that add or change a CI workflow, a git hook or a CI file, or "
        "write one of our keys (they are flagged in the report either way); without it "
        "such an edit is not committed.",
    ),
]

# `orchestrate review-pr`
GithubRepo = Annotated[
    str | None,
    typer.Option("--repo", "--github-repo", help="owner/name; default GITHUB_REPOSITORY."),
]
PullNumber = Annotated[
    int | None, typer.Option("--pr", help="PR number; default from GITHUB_EVENT_PATH.")
]
MaxFiles = Annotated[
    int | None,
    typer.Option("--max-files", min=1, help="Most files reviewed; the rest are listed."),
]
MaxCloudTokens = Annotated[
    int | None, typer.Option("--max-cloud-tokens", min=0, help="Most cloud tokens per review.")
]
MaxComments = Annotated[
    int | None,
    typer.Option("--max-comments", min=0, help="Most inline comments; the rest in the body."),
]
TriageModel = Annotated[
    str | None, typer.Option("--triage-model", help="provider:model for the triage step.")
]
RoutineModel = Annotated[
    str | None, typer.Option("--routine-model", help="provider:model for routine review.")
]
DeepModel = Annotated[
    str | None, typer.Option("--deep-model", help="provider:model for the deep review.")
]
FailOnMissingKey = Annotated[
    bool, typer.Option("--fail-on-missing-key", help="Fail instead of reviewing locally.")
]
PrintReview = Annotated[bool, typer.Option("--dry-run", help="Print the review; post nothing.")]
BotLogin = Annotated[
    str | None,
    typer.Option("--bot-login", help="Login the token posts as; default: asked from GitHub."),
]
