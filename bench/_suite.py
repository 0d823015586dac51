"""The savings benchmark's reference suite: tiny repos under `bench/tasks/<name>/` and their scripts.

Each task directory holds `repo/` (the files, with their own tests), `plan.md` (the task, as a user
would write it) and `script.yaml`: the planner's plan, each worker subtask's whole-file answer
(or a list of answers, one per fix round) and the reviewer's verdict, each with the token counts
the scripted model reports. Answers are keyed by subtask id; a worker request is matched to its
subtask by the `# Subtask: <title>` line that opens it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from _prompt_tokens import CountedModel
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec, load_plan
from orchestrate.engine.review import Review
from orchestrate.models.base import Model, ModelRequest, ModelResponse, Usage
from orchestrate.models.scripted import ScriptedModel, Step

TASKS_DIR = Path(__file__).parent / "tasks"
WORKER_ROLES = ("coder", "tester", "formatter")
ROLES = ("planner", "reviewer", *WORKER_ROLES)
_STEPS = 200
"""Steps per scripted model: more than any task asks, since every step is the same function."""


class _Call(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int = Field(ge=0)
    """Prompt tokens the scripted model reports for this call."""
    output_tokens: int = Field(ge=0)
    """Output tokens it reports."""


class PlannerScript(_Call):
    """The planner's one answer."""

    plan: dict[str, Any]
    """The plan JSON (as YAML), validated against `Plan` on load."""


class ReviewerScript(_Call):
    """The reviewer's one answer."""

    review: dict[str, Any]
    """The review JSON (as YAML), validated against `Review` on load."""


class WorkerRound(_Call):
    """One worker reply: the complete new content of each file it edits."""

    files: dict[str, str]
    """Repo-relative path → whole new file content."""


class TaskScript(BaseModel):
    """`script.yaml`: every scripted answer of one task."""

    model_config = ConfigDict(extra="forbid")

    planner: PlannerScript
    workers: dict[str, WorkerRound | list[WorkerRound]]
    """By subtask id: one reply, or one per fix round (the last repeats if more are asked)."""
    reviewer: ReviewerScript

    @model_validator(mode="after")
    def _consistent(self) -> TaskScript:
        plan = Plan.model_validate(self.planner.plan)
        Review.model_validate(self.reviewer.review)
        ids = {subtask.id for subtask in plan.subtasks}
        if ids != set(self.workers):
            raise ValueError(f"workers {sorted(self.workers)} must match plan ids {sorted(ids)}")
        titles = Counter(subtask.title for subtask in plan.subtasks)
        if max(titles.values()) > 1:
            raise ValueError("subtask titles must be unique: answers are matched by title")
        return self

    def rounds(self, subtask_id: str) -> list[WorkerRound]:
        """A subtask's replies in order."""
        answer = self.workers[subtask_id]
        return answer if isinstance(answer, list) else [answer]


@dataclass(frozen=True)
class BenchTask:
    """One task of the suite."""

    name: str
    path: Path
    spec: TaskSpec
    script: TaskScript

    @property
    def plan(self) -> Plan:
        """The scripted plan."""
        return Plan.model_validate(self.script.planner.plan)

    def make_repo(self, target: Path) -> Path:
        """Copy the task's repo to `target` and commit it as a fresh git repository."""
        shutil.copytree(self.path / "repo", target)
        ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "-A"],
            [*ident, "commit", "-qm", "init"],
        ):
            subprocess.run(["git", *args], cwd=target, check=True, capture_output=True)
        return target


def load_suite(names: list[str] | None = None) -> list[BenchTask]:
    """The tasks under `bench/tasks/`, sorted by name (only `names`, if given)."""
    tasks = []
    for path in sorted(p for p in TASKS_DIR.iterdir() if (p / "script.yaml").is_file()):
        if names is not None and path.name not in names:
            continue
        spec = load_plan(path / "plan.md").tasks[0]
        raw = yaml.safe_load((path / "script.yaml").read_text())
        tasks.append(BenchTask(path.name, path, spec, TaskScript.model_validate(raw)))
    return tasks


def _whole_files(files: dict[str, str]) -> str:
    blocks = []
    for path, text in files.items():
        language = "python" if path.endswith(".py") else ""
        blocks.append(f"{path}\n```{language}\n{text}```\n")
    return "\n".join(blocks)


def _response(text: str, call: _Call, model: str) -> ModelResponse:
    usage = Usage(input_tokens=call.input_tokens, output_tokens=call.output_tokens)
    return ModelResponse(text=text, usage=usage, model=model, latency_s=0.0)


@dataclass
class ScriptedTask:
    """The scripted models playing one task's agents, with fresh call counts."""

    task: BenchTask
    worker_calls: Counter[str] = field(default_factory=Counter)

    def planner(self, request: ModelRequest) -> ModelResponse:
        script = self.task.script.planner
        return _response(json.dumps(script.plan), script, "scripted-planner")

    def reviewer(self, request: ModelRequest) -> ModelResponse:
        script = self.task.script.reviewer
        return _response(json.dumps(script.review), script, "scripted-reviewer")

    def worker(self, request: ModelRequest) -> ModelResponse:
        opening = request.messages[0].content.split("\n", 1)[0]
        title = opening.removeprefix("# Subtask: ").strip()
        ids = {s.title: s.id for s in self.task.plan.subtasks}
        done = self.worker_calls[title]
        self.worker_calls[title] += 1
        if title == self.task.spec.title and title not in ids:
            return self._as_written(done)
        if title not in ids:
            raise LookupError(f"{self.task.name}: no scripted subtask is titled {title!r}")
        rounds = self.task.script.rounds(ids[title])
        answer = rounds[min(done, len(rounds) - 1)]
        return _response(_whole_files(answer.files), answer, "scripted-worker")

    def _as_written(self, done: int) -> ModelResponse:
        """The task run as written (no planner): one subtask doing all the scripted subtasks'
        work, so its answer is theirs together, round by round, and as long as theirs."""
        files: dict[str, str] = {}
        tokens = 0
        for subtask in self.task.plan.subtasks:
            rounds = self.task.script.rounds(subtask.id)
            answer = rounds[min(done, len(rounds) - 1)]
            files |= answer.files
            tokens += answer.output_tokens
        call = _Call(input_tokens=0, output_tokens=tokens)
        return _response(_whole_files(files), call, "scripted-worker")

    def models(self, counter: Model | None = None) -> dict[str, ScriptedModel]:
        """One scripted model per agent role; with `counter`, each reports the real token count
        of the prompt it was sent (`_prompt_tokens.py`) instead of the script's."""
        play = {"planner": self.planner, "reviewer": self.reviewer}
        models: dict[str, ScriptedModel] = {}
        for role in ROLES:
            steps: list[Step] = [play.get(role, self.worker)] * _STEPS
            models[role] = (
                ScriptedModel(steps, name=role)
                if counter is None
                else CountedModel(steps, name=role, counter=counter)
            )
        return models
