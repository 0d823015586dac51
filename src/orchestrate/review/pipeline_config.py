"""`pipelines/pr-review.yaml`: which agent runs each review step, validated with line numbers."""

from __future__ import annotations

from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrate.config.agent_file import mapping_of
from orchestrate.config.errors import config_error, did_you_mean, display_path
from orchestrate.config.validation import validate
from orchestrate.config.yaml_lines import load_yaml
from orchestrate.exceptions import ConfigError
from orchestrate.review.limits import ReviewLimits

PIPELINE_FILE = "pr-review.yaml"
"""The review pipeline's file name, in `pipelines/` of the package or of a repository."""

StepKind = Literal["triage", "routine", "deep", "format", "post"]

STEP_ORDER: tuple[StepKind, ...] = ("triage", "routine", "deep", "format", "post")
"""The order steps run in; a pipeline may leave out `triage` and `deep`, never reorder."""

REQUIRED_STEPS: tuple[StepKind, ...] = ("routine", "format", "post")
"""Without these there is no review to post."""


class Step(BaseModel):
    """One step of the review pipeline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: StepKind
    """What the step does: triage | routine | deep | format | post."""
    agent: str | None = None
    """Agent (from agents/*.yaml) that does the step; every step but `post` needs one."""


class PipelineConfig(BaseModel):
    """The PR-review pipeline: its steps in order, and default limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "pr-review"
    """Name shown in messages."""
    steps: list[Step]
    """Steps in run order (see STEP_ORDER)."""
    limits: ReviewLimits = Field(default_factory=ReviewLimits)
    """Default budgets; the Action's inputs and CLI options override them."""
    source: str = ""
    """File the pipeline was read from, for messages (set by the loader)."""

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[Step]) -> list[Step]:
        kinds = [step.step for step in steps]
        for kind in REQUIRED_STEPS:
            if kind not in kinds:
                raise ValueError(f"missing the {kind!r} step (steps run {' → '.join(STEP_ORDER)})")
        if kinds != sorted(set(kinds), key=STEP_ORDER.index):
            raise ValueError(f"each step once, in the order {' → '.join(STEP_ORDER)}")
        for step in steps:
            if step.step != "post" and not step.agent:
                raise ValueError(f"the {step.step!r} step needs agent: <name from agents/>")
        return steps

    def agent_for(self, kind: StepKind) -> str | None:
        """The agent of step `kind`, or None when the pipeline leaves the step out."""
        for step in self.steps:
            if step.step == kind:
                return step.agent
        return None


def default_pipelines_dir() -> Path:
    """The packaged `pipelines/`: in the wheel, or the source checkout's top-level folder."""
    packaged = Path(str(resources.files("orchestrate").joinpath("defaults", "pipelines")))
    if packaged.is_dir():
        return packaged
    # src/orchestrate/review/pipeline_config.py → parents[3] is the checkout root.
    checkout = Path(__file__).resolve().parents[3] / "pipelines"
    if checkout.is_dir():
        return checkout
    raise ConfigError(
        f"default pipelines not found (looked in {packaged} and {checkout}); reinstall orchestrate"
    )


def load_pipeline(repo: Path) -> PipelineConfig:
    """`<repo>/pipelines/pr-review.yaml` if the repository has one, else the packaged default."""
    own = repo / "pipelines" / PIPELINE_FILE
    return load_pipeline_file(own if own.is_file() else default_pipelines_dir() / PIPELINE_FILE)


def load_pipeline_file(path: Path) -> PipelineConfig:
    """Parse and validate one pipeline file; the first problem is a one-line `ConfigError`."""
    doc = load_yaml(path)
    fields = mapping_of(doc, "a review pipeline (steps:, limits:)")
    if "source" in fields:
        raise config_error(path, doc.line_of(("source",)), "source", "unknown field (remove it)")
    fields["source"] = display_path(path)
    return validate(PipelineConfig, fields, doc)


def require_agents(pipeline: PipelineConfig, agents: Collection[str]) -> None:
    """Every step's agent exists in the loaded configuration."""
    for index, step in enumerate(pipeline.steps):
        if step.agent is None or step.agent in agents:
            continue
        guess = did_you_mean(step.agent, agents)
        hint = f"did you mean {guess!r}?" if guess else "agents come from agents/*.yaml"
        raise ConfigError(
            f"{pipeline.source or pipeline.name}: steps[{index}].agent: "
            f"unknown agent {step.agent!r} ({hint})"
        )
