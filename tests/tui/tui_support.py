"""Helpers for the TUI tests: a tiny project's texts, scripted models, waiting on the app."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static, TextArea

from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    AgentConfig,
    BudgetConfig,
    ChecksSettings,
    EndpointConfig,
    OrchestrateConfig,
    PriceEntry,
)
from orchestrate.engine.engine import EngineOptions
from orchestrate.engine.session import Session
from orchestrate.events import EventBus
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.scripted import ScriptedModel, Step, register_scripted
from orchestrate.routing.budget import Budget
from orchestrate.tui.app import OrchestrateApp
from orchestrate.tui.screens.approval import CommandApproval
from orchestrate.tui.screens.plan import PlanScreen
from orchestrate.tui.screens.run import RunScreen

PY = shlex.quote(sys.executable)
CALC = "def add(a, b):\n    return a + b\n"
CALC_SUB = CALC + "\n\ndef sub(a, b):\n    return a - b\n"
CALC_SUB_BAD = CALC + "\n\ndef sub(a, b):\n    return b - a\n"
README = "# calc\n\n## Usage\n\n`from calc import add, sub`\n"
SUB_CHECK = f"{PY} -c 'import calc; assert calc.sub(5, 3) == 2'"
TASK_TEXT = "Add subtraction\ncalc needs sub(a, b) and usage docs."
RUN_ID = "tui-1"
"""Id of the first run of an app made by `make_app`."""


def whole(path: str, text: str) -> str:
    """A worker answer in whole-file format."""
    return f"{path}\n```python\n{text}```\n"


def subtask(sid: str, kind: str, files: list[str], checks: list[str], deps: list[str]) -> Any:
    return {
        "id": sid,
        "title": f"Step {sid}",
        "kind": kind,
        "spec": f"Carry out step {sid}.",
        "read_files": [],
        "edit_files": files,
        "depends_on": deps,
        "checks": checks,
    }


PLAN = json.dumps(
    {
        "summary": "Add sub, then document it.",
        "subtasks": [
            subtask("sub", "code", ["calc.py"], [SUB_CHECK], []),
            subtask("readme", "format", ["README.md"], ["grep -q Usage README.md"], ["sub"]),
        ],
    }
)
APPROVE = json.dumps(
    {
        "verdict": "approve",
        "summary": "sub is correct and documented.",
        "comments": [{"path": "calc.py", "line": 5, "severity": "info", "body": "nice and small"}],
        "follow_ups": [],
    }
)
CHAINS = {
    "planner": ["scripted:planner"],
    "reviewer": ["scripted:reviewer"],
    "coder": ["scripted:coder"],
    "tester": ["scripted:tester"],
    "formatter": ["scripted:formatter"],
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


class Models:
    """Registers scripted models for one test and forgets them afterwards."""

    def __init__(self) -> None:
        self.models: dict[str, ScriptedModel] = {}

    def add(self, name: str, steps: Sequence[Step], **kwargs: Any) -> ScriptedModel:
        # Fixed usage keeps token counts (and so snapshots) independent of prompt details.
        kwargs = {"input_tokens": 100, "output_tokens": 20, **kwargs}
        model = ScriptedModel(steps, name=name, **kwargs)
        self.models[name] = model
        register_scripted(name, model)
        return model

    def __getitem__(self, name: str) -> ScriptedModel:
        return self.models[name]


def agent(name: str, chain: list[str]) -> AgentConfig:
    return AgentConfig(
        name=name,
        model=chain[0],
        fallbacks=chain[1:],
        system_prompt=f"You are the {name}.",
        retries=0,
    )


CLOUD_PRICE = PriceEntry(input=3.0, output=15.0, context_window=200_000)
"""Price of every `scloud:*` model: scripted, but a cloud model as far as routing and budgets go."""


def make_session(
    repo: Path, chains: dict[str, list[str]] | None = None, budget: BudgetConfig | None = None
) -> Session:
    chains = chains or CHAINS
    cloud = {
        ref: CLOUD_PRICE for chain in chains.values() for ref in chain if ref.startswith("scloud:")
    }
    config = OrchestrateConfig(
        agents={name: agent(name, chain) for name, chain in chains.items()},
        endpoints={**BUILTIN_ENDPOINTS, "scloud": EndpointConfig(kind="scripted", tier="cloud")},
        prices={**packaged_prices().prices, **cloud},
        reference_model="anthropic:claude-sonnet-4-6",
        budget=budget or BudgetConfig(),
        # The same on every machine, with or without bubblewrap (the run screen says which).
        checks=ChecksSettings(sandbox="none"),
    )
    ledger = Ledger(None)
    options = EngineOptions(concurrency=1, check_timeout=60, max_fix_rounds=2)
    spend = Budget.from_config(config.budget, ledger)
    return Session(config, repo, ledger, budget=spend, options=options, events=EventBus())


def happy_models(models: Models) -> None:
    """A run that goes well: plan, two subtasks first time, an approving review."""
    models.add("planner", [PLAN])
    models.add("coder", [whole("calc.py", CALC_SUB)])
    models.add("formatter", [whole("README.md", README)])
    models.add("tester", [])
    models.add("reviewer", [APPROVE])


MakeApp = Callable[..., OrchestrateApp]


WAIT_S = 15.0


async def until(pilot: Pilot[Any], predicate: Callable[[], object]) -> None:
    """Let the app run until `predicate` holds (at most `WAIT_S` seconds)."""
    for _ in range(int(WAIT_S / 0.02)):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out after {WAIT_S}s waiting for the app")


async def approve_commands(pilot: Pilot[Any]) -> CommandApproval:
    """Wait for the dialog showing the commands a model wrote, and say yes to all of them."""
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandApproval))
    dialog = pilot.app.screen
    assert isinstance(dialog, CommandApproval)
    await pilot.press("y")
    return dialog


async def run_ends(pilot: Pilot[Any]) -> None:
    """Wait for the run's result, saying yes to each command dialog on the way, as a user who
    read the commands would (at most `WAIT_S` seconds)."""
    app = pilot.app
    for _ in range(int(WAIT_S / 0.02)):
        if isinstance(app.screen, CommandApproval):
            await pilot.press("y")
        if isinstance(app.screen, RunScreen) and app.screen.result:
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out after {WAIT_S}s waiting for the run to end")


async def type_task(pilot: Pilot[Any], text: str = TASK_TEXT) -> None:
    """Put a task in the input and ask for a plan (key-by-key typing is in the history test)."""
    area = pilot.app.screen.query_one("#task-input", TextArea)
    area.insert(text)
    await pilot.press("ctrl+s")


async def plan_task(pilot: Pilot[Any]) -> None:
    """Type the task and wait for its plan."""
    app = pilot.app
    await type_task(pilot)
    await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan)


async def run_task(pilot: Pilot[Any]) -> None:
    """Type the task, approve its plan, and wait for the run's result."""
    await plan_task(pilot)
    await pilot.press("ctrl+s")
    await run_ends(pilot)


FLOATS = CALC_SUB + "\n\ndef div(a, b):\n    return a / b\n"
"""calc.py after a second run that builds on the first."""


def two_runs_models(models: Models) -> None:
    """Two good runs: the first adds `sub`, the second (sent back) adds `div` on top."""
    happy_models(models)
    models.add("planner", [PLAN, PLAN])
    models.add("coder", [whole("calc.py", CALC_SUB), whole("calc.py", FLOATS)])
    models.add("formatter", [whole("README.md", README)] * 2)
    models.add("reviewer", [APPROVE, APPROVE])


def footer(screen: Any) -> dict[str, str]:
    """What the screen's footer offers: key → description (disabled keys left out)."""
    from textual.widgets._footer import FooterKey

    return {key.key: key.description for key in screen.query(FooterKey) if not key.disabled}


S = TypeVar("S")


def current(app: App[Any], kind: type[S]) -> S:
    """The app's screen, which must be a `kind` (for the type checker as much as the test)."""
    screen = app.screen
    assert isinstance(screen, kind), screen
    return screen


def showing(app: App[Any], screen: Screen[Any]) -> bool:
    """Whether `screen` is the app's screen now (a call, so earlier narrowing does not apply)."""
    return app.screen is screen


def shown(widget: Static) -> str:
    """The plain text a Static shows."""
    rendered = widget.render()
    assert isinstance(rendered, Content), type(rendered)
    return rendered.plain
