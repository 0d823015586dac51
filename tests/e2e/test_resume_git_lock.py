"""A run killed while git holds its worktree's index.lock resumes to an approved run.

`git add` runs a repository's clean filters with the index locked (as git-lfs's does); here a
filter that waits on a file holds git inside `git add` while the whole process group (the run,
git, the filter) is SIGKILLed, which leaves `index.lock` behind as a real kill does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_resume import (
    APPROVE_REPLY,
    PLAN_REPLY,
    README_REPLY,
    SUB_REPLY,
    assert_finished_once,
    posts,
    run_ids,
    wait_for,
)
from tests.e2e.test_run_e2e import (
    PLAN_MD,
    PLANNED,
    Fakes,
    fakes,
    git,
    orchestrate,
    repo,
    write_agents,
)

from orchestrate.engine.git_locks import worktree_git_dir
from orchestrate.engine.run_files import RepoFiles

__all__ = ["fakes", "repo"]  # fixtures, imported to be found by pytest


def test_killed_inside_git_add_resumes_with_each_subtask_committed_once(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    (repo / ".gitattributes").write_text("README.md filter=hold\n")
    git(repo, "add", ".gitattributes")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "attributes")
    holding = f"touch {started}; while [ -e {hold} ]; do sleep 0.05; done; cat"
    git(repo, "config", "filter.hold.clean", holding)
    fakes.claude.push(PLAN_REPLY, APPROVE_REPLY)
    fakes.ollama.push(SUB_REPLY, README_REPLY)
    agents = write_agents(tmp_path, fakes)
    (tmp_path / "plan.md").write_text(PLAN_MD)
    args = (str(tmp_path / "plan.md"), "--agents", str(agents), "--concurrency", "1")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": fakes.claude.url,
        "OLLAMA_HOST": fakes.ollama.url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrate", "run", *args, *PLANNED],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for("git add of README.md", started.exists, process)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    [run_id] = run_ids(repo)
    own = worktree_git_dir(RepoFiles.of(repo).run(run_id).worktree)
    assert own is not None and (own / "index.lock").is_file()
    hold.unlink()

    resumed = orchestrate(repo, fakes, *args, "--json", "--resume", run_id)

    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id}: removed git lock files a killed process left: {own / 'index.lock'}" in (
        resumed.stderr
    )
    [task] = json.loads(resumed.stdout)["tasks"]
    assert_finished_once(repo, run_id, task, fakes)
    # The readme edit was paid for before the kill: read back, not asked for again.
    assert (posts(fakes.claude), posts(fakes.ollama)) == (2, 2)
