"""`orchestrate run plan.md --repos repos.txt`: one plan in many repositories, one report, the
whole resumable, and `--open-prs` pull requests through PyGithub against the fake GitHub."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.e2e.test_resume import held, posts
from tests.e2e.test_run_e2e import git
from tests.fleet.fleet_rig import PLAN, Fleet, branch_head, fleet, report_of, wait_for

__all__ = ["fleet"]  # a fixture, imported to be found by pytest


def test_one_plan_runs_in_every_repository_and_each_approved_branch_becomes_a_pull_request(
    fleet: Fleet,
) -> None:
    one = fleet.local_repo("one", github="acme/one")
    fleet.local_repo("two")  # no origin: its branch stays local, and the report says why
    three = fleet.host("acme/three")
    repos = fleet.root / "repos.txt"
    repos.write_text("one\n# a comment, then a blank line\n\ntwo\nacme/three\n")
    before = git(one, "rev-parse", "HEAD")
    hosted = {name: fleet.github.hosted.repos[name] for name in ("acme/one", "acme/three")}
    mains = {name: branch_head(repo.remote, "main") for name, repo in hosted.items()}

    done = fleet.run(
        str(fleet.plan()), "--repos", str(repos), "--open-prs", "--agents", str(fleet.agents()),
        "--max-repos", "2", "--json",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = report_of(done)
    rows = {row["repo"]: row for row in report["rows"]}
    assert list(rows) == [str(one), str(fleet.root / "two"), "acme/three"]
    assert {row["status"] for row in rows.values()} == {"approved"}
    branch = f"orchestrate/{report['fleet_id']}"
    assert all(row["branches"] == [branch] for row in rows.values())
    # Each repository paid for its own plan: the planner's tokens, at the planner's price.
    assert all(row["cost"]["cloud_usd"] > 0 for row in rows.values())
    assert report["cost"]["cloud_usd"] == sum(row["cost"]["cloud_usd"] for row in rows.values())
    # Pushed and proposed into the default branch, once each; nothing pushed to main.
    for name, repo in hosted.items():
        assert [(p["head"]["ref"], p["base"]["ref"]) for p in repo.pulls] == [(branch, "main")]
        assert branch_head(repo.remote, branch) is not None
        assert branch_head(repo.remote, "main") == mains[name]
        row = rows[str(one) if name == "acme/one" else name]
        assert [pull["url"] for pull in row["pulls"]] == [repo.pulls[0]["html_url"]]
    assert "Add subtraction" in three.pulls[0]["title"]
    assert "check" in three.pulls[0]["body"]
    assert rows[str(fleet.root / "two")]["pulls"] == []
    assert "not a GitHub repository" in rows[str(fleet.root / "two")]["detail"]
    # The user's checkout is never touched: same HEAD, clean tree.
    assert git(one, "rev-parse", "HEAD") == before
    assert git(one, "status", "--porcelain") == ""

    # Resumed as a whole once finished: reported again, nothing re-asked, no second pull request.
    asked = posts(fleet.planner)
    again = fleet.run(
        str(fleet.plan()), "--repos", str(repos), "--resume", report["fleet_id"], "--json"
    )
    assert again.returncode == 0, again.stderr
    assert posts(fleet.planner) == asked
    assert [row["status"] for row in report_of(again)["rows"]] == ["approved"] * 3
    assert len(three.pulls) == 1 and len(fleet.github.hosted.repos["acme/one"].pulls) == 1
    assert [row["pulls"] for row in report_of(again)["rows"]] == [
        row["pulls"] for row in report["rows"]
    ]


def test_at_most_max_repos_repositories_are_worked_on_at_once(fleet: Fleet) -> None:
    for name in ("a", "b"):
        fleet.local_repo(name)
    repos = fleet.root / "repos.txt"
    repos.write_text("a\nb\n")

    done = fleet.run(
        str(fleet.plan()), "--repos", str(repos), "--agents", str(fleet.agents()),
        "--max-repos", "1",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    events = [
        (line.split("]")[0].strip("["), line.split("] ", 1)[1])
        for line in done.stderr.splitlines()
        if line.startswith("[") and line.endswith(("] starting", "] approved"))
    ]
    names = [str(fleet.root / name) for name in ("a", "b")]
    assert events == [(name, verb) for name in names for verb in ("starting", "approved")]
    assert "| repository | status | branch |" in done.stdout


def test_a_killed_repos_run_resumes_every_repository_where_it_was(fleet: Fleet) -> None:
    for name in ("a", "b", "c"):
        fleet.local_repo(name)
    repos = fleet.root / "repos.txt"
    repos.write_text("a\nb\nc\n")
    fleet.planner.default = None
    fleet.planner.push(PLAN, held(PLAN))  # a's plan, then b's, held until the kill
    args = (str(fleet.plan()), "--repos", str(repos), "--agents", str(fleet.agents()),
            "--max-repos", "1")  # fmt: skip
    process = fleet.start(*args)
    try:
        wait_for("b's plan", lambda: posts(fleet.planner) == 2, process)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    [record] = (Path(os.environ["XDG_STATE_HOME"]) / "orchestrate" / "fleets").glob("*.json")
    a_branch = f"orchestrate/{record.stem}"
    a_head = git(fleet.root / "a", "rev-parse", a_branch)

    fleet.planner.script.clear()
    fleet.planner.push(PLAN, PLAN)  # b's plan again (never answered), then c's
    done = fleet.run(*args, "--resume", record.stem, "--json")

    assert done.returncode == 0, done.stderr
    assert [row["status"] for row in report_of(done)["rows"]] == ["approved"] * 3
    fleet.planner.assert_drained()
    assert posts(fleet.planner) == 4  # a, b (killed), b, c: a was not planned again
    assert git(fleet.root / "a", "rev-parse", a_branch) == a_head  # a's work was not redone


def test_open_prs_without_repos_is_one_line(fleet: Fleet) -> None:
    alone = fleet.run(str(fleet.plan()), "--open-prs")
    assert alone.returncode == 2
    assert alone.stderr.splitlines() == [
        "error: --open-prs works with --repos: list this repository alone (`echo . > "
        "repos.txt`) and pass --repos repos.txt"
    ]
