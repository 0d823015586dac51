"""The batch-refactor workflow: a matrix job per repository running the command a user runs,
and a last job merging every run's ledger into one cost report in the job summary.

Its scripts run here as they are, with bash, against the loopback fakes: the per-repository
step clones the repository from the fake GitHub, runs the plan and opens the pull request; the
cost step reads what that step wrote, laid out as download-artifact lays it out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from tests.fleet.fleet_rig import PLANNED, TOKEN, Fleet, fleet, make_repo

from orchestrate.ledger.store import Ledger

__all__ = ["fleet"]  # a fixture, imported to be found by pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "batch-refactor.yml"


def load() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def step(job: str, name_starts: str) -> dict[str, Any]:
    steps = load()["jobs"][job]["steps"]
    found: dict[str, Any] = next(s for s in steps if s.get("name", "").startswith(name_starts))
    return found


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def test_one_job_per_repository_at_most_max_parallel_then_the_cost_report() -> None:
    workflow = load()
    on = workflow.get("on", workflow.get(True))
    assert on is not None
    for trigger in ("workflow_dispatch", "workflow_call"):
        assert {"plan", "repositories", "max-parallel", "open-prs"} <= set(on[trigger]["inputs"])
        assert on[trigger]["inputs"]["plan"]["required"] is True
    assert set(on["workflow_call"]["secrets"]) == {
        "REPOS_TOKEN",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
    }
    assert workflow["permissions"] == {"contents": "read"}
    refactor = workflow["jobs"]["refactor"]
    assert refactor["strategy"] == {
        "fail-fast": False,
        "max-parallel": "${{ fromJSON(inputs.max-parallel) }}",
        "matrix": {"repository": "${{ fromJSON(needs.repositories.outputs.list) }}"},
    }
    upload = step("refactor", "Upload")
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "out/"
    assert upload["uses"].startswith("actions/upload-artifact@")
    cost = workflow["jobs"]["cost"]
    assert cost["needs"] == ["repositories", "refactor"]
    assert cost["if"].startswith("always()")  # the report covers failed jobs too
    download = step("cost", "Download")
    assert download["with"] == {"pattern": "run-*", "path": "runs"}
    # Secrets reach the scripts through env, never spliced into the bash text.
    for job, name in (("refactor", "Run the plan"), ("cost", "Merge")):
        assert "${{" not in step(job, name)["run"]


def test_the_repository_list_becomes_the_matrix_and_a_bad_entry_stops_it(tmp_path: Path) -> None:
    script = step_of_list()
    output = tmp_path / "output"
    env = {**os.environ, "GITHUB_OUTPUT": str(output)}
    done = bash(script, tmp_path, env | {"REPOSITORIES": "acme/one, acme/two\n acme/one\tacme/x.y"})
    assert done.returncode == 0, done.stderr
    key, _, value = output.read_text().strip().partition("=")
    assert (key, json.loads(value)) == ("list", ["acme/one", "acme/two", "acme/x.y"])
    bad = bash(script, tmp_path, env | {"REPOSITORIES": "acme/one ../etc/passwd"})
    assert bad.returncode == 1
    assert "::error::not owner/name: ../etc/passwd" in bad.stdout


def step_of_list() -> str:
    steps = load()["jobs"]["repositories"]["steps"]
    script: str = steps[0]["run"]
    return script


def test_the_per_repository_step_opens_the_pull_request_and_the_last_job_sums_the_cost(
    fleet: Fleet, tmp_path: Path
) -> None:
    # The target repository carries its own agents/ (pointing at the fakes), as any repository
    # may; the workflow passes no --agents.
    source = make_repo(fleet.root / "sources" / "acme" / "widgets")
    shutil.copytree(fleet.agents(), source / "agents")
    subprocess.run(["git", "add", "."], cwd=source, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "agents"],
        cwd=source,
        check=True,
    )
    hosted = fleet.host("acme/widgets", source=source)
    job = tmp_path / "job"
    (job / "caller").mkdir(parents=True)
    (job / "caller" / "plan.md").write_text(fleet.plan().read_text())
    wrapper = tmp_path / "orchestrate"
    # The run is about the (fake, paid) planner's plan: its task, naming files and checks, is
    # planned rather than run as written.
    wrapper.write_text(
        f'#!/bin/sh\nif [ "$1" = run ]; then exec {sys.executable} -m orchestrate "$@" '
        f'{" ".join(PLANNED)}; fi\nexec {sys.executable} -m orchestrate "$@"\n'
    )
    wrapper.chmod(0o755)
    outputs = tmp_path / "github_output"
    env = fleet.env() | {
        "ORCHESTRATE": str(wrapper),
        "PLAN": "caller/plan.md",
        "REPOSITORY": "acme/widgets",
        "OPEN_PRS": "true",
        "BUDGET": "5",
        "GITHUB_TOKEN": TOKEN,
        "INPUT_ANTHROPIC_API_KEY": fleet.env()["ANTHROPIC_API_KEY"],
        "INPUT_OPENAI_API_KEY": "",
        "GITHUB_OUTPUT": str(outputs),
    }
    env.pop("ANTHROPIC_API_KEY")  # the script exports it from the input, as the job does

    done = bash(step("refactor", "Run the plan")["run"], job, env)

    assert done.returncode == 0, done.stderr
    assert outputs.read_text().strip() == "status=0"
    report = json.loads((job / "out" / "report.json").read_text())
    [row] = report["rows"]
    assert (row["repo"], row["status"]) == ("acme/widgets", "approved")
    assert [pull["number"] for pull in row["pulls"]] == [hosted.pulls[0]["number"]]
    assert hosted.pulls[0]["head"]["ref"] == row["branches"][0]
    assert (job / "out" / "report.md").read_text().startswith("# orchestrate run over 1 ")
    with Ledger(job / "out" / "ledger.sqlite") as ledger:
        paid = sum(a.cost_usd for a in ledger.attempts() if a.tier == "cloud")
    assert paid == row["cost"]["cloud_usd"] > 0

    # The cost job: each artifact extracted under runs/<artifact name>/, one of them empty-handed
    # (a job that failed before writing a report).
    last = tmp_path / "last"
    shutil.copytree(job / "out", last / "runs" / "run-0")
    (last / "runs" / "run-1").mkdir()
    (last / "runs" / "run-1" / "report.json").write_text("")
    summary = last / "summary.md"
    merged = bash(
        step("cost", "Merge")["run"],
        last,
        {**os.environ, "ORCHESTRATE": str(wrapper), "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert merged.returncode == 0, merged.stderr
    text = summary.read_text()
    assert "| acme/widgets | approved |" in text
    assert f"- cloud spend: ${paid:.4f}" in text
    assert "| planner | anthropic:claude-sonnet-4-6 | cloud | 1 |" in text
