"""`--open-prs`: each approved task branch pushed to the repository's `origin` and proposed as a
pull request into its default branch; a resumed run finds the ones it already opened."""

from __future__ import annotations

from pathlib import Path

from orchestrate.engine.report import BatchReport, BatchTotals, TaskReport
from orchestrate.engine.report_markdown import render_markdown
from orchestrate.exceptions import GitHubError, RepoError
from orchestrate.fleet.checkout import GitHubAccess, github_repo_of
from orchestrate.fleet.git_remote import origin_url, push_branch
from orchestrate.fleet.record import PullLink
from orchestrate.fleet.repos_file import RepoSpec
from orchestrate.github.open_pull import open_pull
from orchestrate.github.repository import api_client, refuse_default_branch


def pull_body(task: TaskReport, report: BatchReport) -> str:
    """The task's own report: what was done, the checks, the review, what it cost."""
    one = BatchReport(
        plan_file=report.plan_file,
        dry_run=False,
        tasks=[task],
        totals=BatchTotals(tasks=1, approved=int(task.status == "approved"), cost=task.cost),
        counterfactual_note=report.counterfactual_note,
    )
    return f"Opened by orchestrate from `{report.plan_file}`.\n\n" + render_markdown(one)


def publish(
    spec: RepoSpec, checkout: Path, report: BatchReport, access: GitHubAccess
) -> tuple[list[PullLink], str]:
    """Push and propose every approved branch; returns the pull requests and, if some could not
    be opened, one line saying why (the others are still opened)."""
    approved = [task for task in report.tasks if task.status == "approved" and task.branch]
    if not approved:
        return [], ""
    name = github_repo_of(spec, checkout)
    url = origin_url(checkout)
    if name is None or url is None:
        return [], "no pull request: its origin remote is not a GitHub repository"
    problems: list[str] = []
    links: list[PullLink] = []
    try:
        facts = access.facts(name)
    except GitHubError as error:
        return [], str(error)
    client = api_client(access.api_url, access.token)
    for task in approved:
        assert task.branch is not None
        try:
            refuse_default_branch(task.branch, facts)
            push_branch(checkout, url, task.branch, access.token)
            opened = open_pull(client, facts, task.branch, task.task, pull_body(task, report))
        except (GitHubError, RepoError) as error:
            problems.append(f"{task.branch}: {error}")
            continue
        links.append(PullLink(run_id=task.run_id, number=opened.number, url=opened.url))
    return links, "; ".join(problems)
