"""The savings benchmark's reference suite: tiny repos under `bench/tasks/<name>/` and their scripts.

Each task directory holds `repo/` (the files, with their own tests) or names a shared real
project under `tasks/_projects/` (`project:`), `plan.md` (the task, as a user would write it) and
`script.yaml`: the planner's plan, each worker subtask's answer (whole `files`, or `edits` written
in whichever edit format the engine asks: `_answers.py`; or a list of answers, one per fix round)
and the reviewer's verdict. Answers are keyed by subtask id; a worker request is matched to its
subtask by the `# Subtask: <title>` line that opens it. The token counts a script gives are the
old method's figures, kept to show it; the benchmark counts the real text (`_prompt_tokens.py`).
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
from _answers import Edit, apply, asked_format, search_replace, whole_files
from _prompt_cache import PromptCache
from _prompt_tokens import CountedModel, TokenCounter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrate.engine.plan import Plan
from orchestrate.engine.plan_md import TaskSpec, load_plan
from orchestrate.engine.review import Review
from orchestrate.models.base import ModelRequest, ModelResponse, Usage
from orchestrate.models.scripted import ScriptedModel, Step

TASKS_DIR = Path(__file__).parent / "tasks"
PROJECTS_DIR = TASKS_DIR / "_projects"
"""Real code shared by the real-size tasks (see each project's ORIGIN.md)."""
WORKER_ROLES = ("coder", "tester", "formatter")
QUICK = "quick-reviewer"
ROLES = ("planner", "reviewer", QUICK, *WORKER_ROLES)
_STEPS = 200
"""Steps per scripted model: more than any task asks, since every step is the same function."""


class _Call(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int | None = Field(default=None, ge=0)
    """The script's own prompt-token figure (the old method; real-size tasks give none)."""
    output_tokens: int | None = Field(default=None, ge=0)
    """The script's own output-token figure (the old method; real-size tasks give none)."""


class PlannerScript(_Call):
    """The planner's one answer."""

    plan: dict[str, Any]
    """The plan JSON (as YAML), validated against `Plan` on load."""


class ReviewerScript(_Call):
    """The reviewer's one answer."""

    review: dict[str, Any]
    """The review JSON (as YAML), validated against `Review` on load."""


class WorkerRound(_Call):
    """One worker reply: the complete new content of each file it edits, or its edits."""

    files: dict[str, str] = Field(default_factory=dict)
    """Repo-relative path → whole new file content (tiny tasks)."""
    edits: list[Edit] = Field(default_factory=list)
    """The changes, written as the engine asks: blocks, or whole files with them applied."""

    @model_validator(mode="after")
    def _one_kind(self) -> WorkerRound:
        if bool(self.files) == bool(self.edits):
            raise ValueError("a worker round gives either files or edits")
        return self


class TaskScript(BaseModel):
    """`script.yaml`: every scripted answer of one task."""

    model_config = ConfigDict(extra="forbid")

    project: str | None = None
    """A directory under tasks/_projects/ to use as the repo, instead of the task's own repo/."""
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
    def source(self) -> Path:
        """The files the task starts from."""
        project = self.script.project
        return PROJECTS_DIR / project if project else self.path / "repo"

    @property
    def plan(self) -> Plan:
        """The scripted plan."""
        return Plan.model_validate(self.script.planner.plan)

    def make_repo(self, target: Path) -> Path:
        """Copy the task's repo to `target` and commit it as a fresh git repository."""
        shutil.copytree(self.source, target)
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


def _response(text: str, call: _Call, model: str) -> ModelResponse:
    usage = Usage(input_tokens=call.input_tokens or 0, output_tokens=call.output_tokens or 0)
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

    def quick_reviewer(self, request: ModelRequest) -> ModelResponse:
        """Derived from the task's `reviewer: review`: approve -> approve, request_changes ->
        escalate (SCRIPTED: whether a cheap model would judge so is not measured here)."""
        review = Review.model_validate(self.task.script.reviewer.review)
        verdict = "approve" if review.verdict == "approve" else "escalate"
        answer = {"verdict": verdict, "summary": review.summary, "comments": []}
        return _response(json.dumps(answer), _Call(), "scripted-quick-reviewer")

    def worker(self, request: ModelRequest) -> ModelResponse:
        opening = request.messages[0].content.split("\n", 1)[0]
        title = opening.removeprefix("# Subtask: ").strip()
        ids = {s.title: s.id for s in self.task.plan.subtasks}
        done = self.worker_calls[title]
        self.worker_calls[title] += 1
        if title == self.task.spec.title and title not in ids:
            return self._as_written(done, request)
        if title not in ids:
            raise LookupError(f"{self.task.name}: no scripted subtask is titled {title!r}")
        answer = self._round(ids[title], done)
        order = [subtask.id for subtask in self.task.plan.subtasks]
        earlier = order[: order.index(ids[title])]  # committed before this one, in plan order
        text = self._text([answer], request, self._base(earlier))
        return _response(text, answer, "scripted-worker")

    def _round(self, subtask_id: str, done: int) -> WorkerRound:
        rounds = self.task.script.rounds(subtask_id)
        return rounds[min(done, len(rounds) - 1)]

    def _base(self, earlier: list[str]) -> dict[str, str]:
        """The files edits apply to: the repo as it starts, with earlier subtasks' last answers."""
        paths = {e.path for rounds in self.task.script.workers.values() for e in _edits(rounds)}
        files = {
            p: (self.task.source / p).read_text() for p in paths if (self.task.source / p).is_file()
        }
        return apply(files, [e for sid in earlier for e in self.task.script.rounds(sid)[-1].edits])

    def _text(self, answers: list[WorkerRound], request: ModelRequest, base: dict[str, str]) -> str:
        """The answers' reply in the format asked: whole files, or SEARCH/REPLACE blocks."""
        edits = [edit for answer in answers for edit in answer.edits]
        files = {path: text for answer in answers for path, text in answer.files.items()}
        if asked_format(request) == "search_replace":
            if files:
                raise ValueError(f"{self.task.name}: blocks were asked for a whole-file script")
            return search_replace(edits)
        changed = apply(base, edits)
        return whole_files(files | {e.path: changed[e.path] for e in edits})

    def _as_written(self, done: int, request: ModelRequest) -> ModelResponse:
        """The task run as written (no planner): one subtask doing all the scripted subtasks'
        work, so its answer is theirs together, round by round."""
        answers = [self._round(subtask.id, done) for subtask in self.task.plan.subtasks]
        tokens = sum(answer.output_tokens or 0 for answer in answers)
        call = _Call(input_tokens=0, output_tokens=tokens)
        return _response(self._text(answers, request, self._base([])), call, "scripted-worker")

    def models(
        self,
        counter: TokenCounter | None = None,
        caches: dict[str, PromptCache] | None = None,
    ) -> dict[str, ScriptedModel]:
        """One scripted model per agent role; with `counter`, each reports the real token counts
        of the prompt it was sent and of its answer (`_prompt_tokens.py`) instead of the
        script's, and a role with a prompt cache (`caches`) reports cache writes and reads."""
        play = {"planner": self.planner, "reviewer": self.reviewer, QUICK: self.quick_reviewer}
        models: dict[str, ScriptedModel] = {}
        for role in ROLES:
            steps: list[Step] = [play.get(role, self.worker)] * _STEPS
            cache = (caches or {}).get(role)
            models[role] = (
                ScriptedModel(steps, name=role)
                if counter is None
                else CountedModel(steps, name=role, counter=counter, cache=cache)
            )
        return models


def _edits(rounds: WorkerRound | list[WorkerRound]) -> list[Edit]:
    return [e for r in (rounds if isinstance(rounds, list) else [rounds]) for e in r.edits]
