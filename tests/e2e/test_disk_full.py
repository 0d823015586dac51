"""A disk that fills mid-run (simulated with a file-size limit, RLIMIT_FSIZE, on a real
`orchestrate run`): one clear line, a resumable run, and a ledger that never misses a paid call."""

from __future__ import annotations

import json
import os
import resource
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
)
from tests.e2e.test_run_e2e import (
    OLLAMA,
    PLAN_MD,
    PLANNED,
    Fakes,
    fakes,
    orchestrate,
    repo,
    write_agents,
)

from orchestrate.engine.run_files import RepoFiles
from orchestrate.ledger.store import Ledger, default_ledger_path
from orchestrate.models.base import ModelResponse

__all__ = ["fakes", "repo"]  # fixtures, imported to be found by pytest

ROOM = 56 * 1024
"""Bytes any one file may grow to: the ledger's write-ahead log reaches it mid-run, as the
readme edit's ledger row is written (found by trying sizes; SQLite grows it a page a commit)."""


def orchestrate_without_room(
    cwd: Path, fakes: Fakes, *args: str, room: int = ROOM
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": fakes.claude.url,
        "OLLAMA_HOST": fakes.ollama.url,
    }
    return subprocess.run(
        [sys.executable, "-m", "orchestrate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
        # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG, as on a full disk.
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (room, room)),
    )


def test_a_full_disk_stops_with_one_line_and_the_resume_misses_no_paid_call(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    fakes.claude.push(PLAN_REPLY, APPROVE_REPLY)
    fakes.ollama.push(SUB_REPLY, README_REPLY)
    agents = write_agents(tmp_path, fakes)
    (tmp_path / "plan.md").write_text(PLAN_MD)
    args = (str(tmp_path / "plan.md"), "--agents", str(agents), "--concurrency", "1")

    full = orchestrate_without_room(repo, fakes, "run", *args, *PLANNED, "--trust-model-checks")

    assert full.returncode == 3  # a full disk: could not be done now
    [run_id] = run_ids(repo)
    line = full.stderr.splitlines()[-1]
    assert line.startswith(f"error: cannot write the ledger {default_ledger_path(repo)} (")
    assert "free some space" in line
    assert line.endswith(f"run {run_id} is saved: `orchestrate run --resume {run_id}` finishes it")
    assert "bug in orchestrate" not in full.stderr and "Traceback" not in full.stderr
    # Every answer kept for replay has its paid row in the ledger: none replays unrecorded.
    kept = RepoFiles.of(repo).run(run_id).responses.read_text().splitlines()
    answers = [ModelResponse.model_validate(json.loads(line)["response"]) for line in kept]
    with Ledger(default_ledger_path(repo)) as ledger:
        paid = [r for r in ledger.attempts(run_id) if r.outcome == "ok" and not r.replayed]
    assert answers
    for answer in answers:
        assert (answer.usage.input_tokens, answer.usage.output_tokens) in {
            (r.input_tokens, r.output_tokens) for r in paid
        }
    fakes.ollama.push(README_REPLY)  # the edit whose row found no room is asked for again

    resumed = orchestrate(repo, fakes, *args, "--json", "--resume", run_id)

    assert resumed.returncode == 0, resumed.stderr
    [task] = json.loads(resumed.stdout)["tasks"]
    assert_finished_once(repo, run_id, task, fakes)
    # The readme edit whose row found no room was never kept for replay, so it was bought again
    # and recorded; every other call has its one row. Nothing was replayed unrecorded.
    served = posts(fakes.claude) + posts(fakes.ollama)
    with Ledger(default_ledger_path(repo)) as ledger:
        rows = ledger.attempts(run_id)
    assert (posts(fakes.ollama), sum(r.model == OLLAMA for r in rows)) == (3, 2)
    assert len([r for r in rows if not r.replayed]) == served - 1
    assert not any(r.replayed for r in rows)


def test_with_no_room_to_open_the_ledger_the_advice_is_to_free_space(
    tmp_path: Path, repo: Path, fakes: Fakes
) -> None:
    Ledger(default_ledger_path(repo)).close()  # a good ledger, which must not be moved aside
    (repo / ".orchestrate" / ".gitignore").write_text("*\n")
    (tmp_path / "plan.md").write_text(PLAN_MD)

    full = orchestrate_without_room(repo, fakes, "run", str(tmp_path / "plan.md"), room=1024)

    assert full.returncode == 3  # a full disk: could not be done now
    [line] = full.stderr.splitlines()
    assert line.startswith(f"error: cannot write the ledger {default_ledger_path(repo)} (")
    assert "free some space" in line and "move it aside" not in line
