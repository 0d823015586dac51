"""Whole engine runs whose subtasks' checks take real time: how parallel checks are (bench/parallel).

One run = `Engine.run` with a given plan of independent subtasks (each edits its own file) in a
fresh git repository: real worktrees, real check commands, real commits. Each worker call is
answered by a fake OpenAI-compatible server in its own process after `latency` seconds, with the
whole new file the subtask asks for; the reviewer is scripted and approves at once.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from _common import serve_until_told

from orchestrate.config.loader import load_config
from orchestrate.config.schema import EndpointConfig, OrchestrateConfig
from orchestrate.engine.commands import BatchPolicy
from orchestrate.engine.engine import Engine, EngineOptions
from orchestrate.engine.plan import Plan, Subtask
from orchestrate.engine.plan_md import TaskSpec
from orchestrate.events import EventBus
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import ScriptedModel, register_scripted, unregister_scripted
from orchestrate.routing.router import Router
from orchestrate.testing.fake_openai import FakeOpenAI
from orchestrate.testing.fake_server import RecordedRequest, Reply

MODES = ("checks one at a time (before)", "checks side by side (after)")
_TITLE = re.compile(r"# Subtask: Subtask (\d+)")
_APPROVE = {"verdict": "approve", "summary": "Fine.", "comments": [], "follow_ups": []}


class _FileServer(FakeOpenAI):
    """Answers each worker request, after `latency` s, with the whole file its subtask edits."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.clear()  # thousands of prompts need not be kept
        found = _TITLE.search(request.body.decode("utf-8", "replace").replace("\\n", "\n"))
        number = found.group(1) if found else "0"
        text = f"f{number}.py\n```python\nVALUE = {number}\n```\n"
        return Reply(text=text, delay_s=self.latency)


def serve_files(pipe: Connection, latency: float) -> None:
    """Child process: the worker endpoint, until the parent says stop."""
    with _FileServer(latency) as fake:
        serve_until_told(pipe, fake.base_url)


def _repo(root: Path, count: int) -> Path:
    root.mkdir()
    for number in range(count):
        (root / f"f{number}.py").write_text("VALUE = None\n")
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*ident, "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def _plan(count: int, check: str) -> Plan:
    return Plan(
        summary="independent edits",
        subtasks=[
            Subtask(
                id=f"s{number}",
                title=f"Subtask {number}",
                kind="code",
                spec=f"Set VALUE to {number} in f{number}.py.",
                edit_files=[f"f{number}.py"],
                checks=[check],
            )
            for number in range(count)
        ],
    )


def _check(seconds: float, serial: bool) -> str:
    wait = f"sleep {seconds:g}"
    # Before: every check waits for one lock, as every check once waited for the run's worktree.
    # The run's checks share its scratch HOME, sandboxed or not.
    return f'flock "$HOME/.bench-check-lock" {wait}' if serial else wait


def _config(base_url: str, concurrency: int) -> OrchestrateConfig:
    base = load_config(None)
    worker = base.agents["coder"].model_copy(
        update={"model": "loop:bench", "fallbacks": [], "retries": 0, "timeout": 600.0}
    )
    reviewer = base.agents["reviewer"].model_copy(
        update={"model": "scripted:bench-reviewer", "fallbacks": [], "retries": 0}
    )
    endpoint = EndpointConfig(
        kind="openai", tier="local", base_url=base_url, concurrency=concurrency
    )
    return base.model_copy(
        update={
            "agents": {**base.agents, "coder": worker, "reviewer": reviewer},
            "endpoints": {**base.endpoints, "loop": endpoint},
        }
    )


async def timed_run(
    base_url: str, count: int, check_s: float, concurrency: int, *, serial: bool
) -> float:
    """Wall seconds of one whole run; raises unless every subtask was done."""
    register_scripted("bench-reviewer", ScriptedModel([json.dumps(_APPROVE)], name="reviewer"))
    with tempfile.TemporaryDirectory() as tmp:
        repo = _repo(Path(tmp) / "repo", count)
        config = _config(base_url, concurrency)
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        router = Router(config, ledger, run_id="bench")
        options = EngineOptions(concurrency=concurrency, max_fix_rounds=1, check_timeout=600)
        # The plan's checks are the benchmark's own: they run, as a trusting user's would (the
        # engine runs no unapproved model-written command: without this nothing is checked).
        trusted = BatchPolicy((), trust_model_checks=True)
        engine = Engine(config, router, repo, events=EventBus(), options=options, approve=trusted)
        task = TaskSpec(title="bench", instructions="independent edits", line=1)
        plan = _plan(count, _check(check_s, serial))
        try:
            started = time.perf_counter()
            result = await engine.run(task, "bench", plan=plan)
            wall = time.perf_counter() - started
        finally:
            await router.aclose()
            ledger.close()
            unregister_scripted("bench-reviewer")
    failed = [r.id for r in result.subtasks if r.status != "done" or not r.checks]
    if failed:
        raise RuntimeError(f"subtasks not done and checked: {failed} ({result.subtasks[0].detail})")
    return wall


def describe_check(check_s: float) -> str:
    """The check command, as the table's note says it."""
    return f"check: `{shlex.join(['sleep', f'{check_s:g}'])}` (before: under one `flock`)"
