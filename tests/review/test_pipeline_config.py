"""`pipelines/pr-review.yaml`: the packaged default, repository overrides, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrate.config.loader import load_config
from orchestrate.exceptions import ConfigError
from orchestrate.review.limits import ReviewLimits
from orchestrate.review.pipeline_config import (
    STEP_ORDER,
    load_pipeline,
    load_pipeline_file,
    require_agents,
)

VALID = """\
steps:
  - step: routine
    agent: routine-reviewer
  - step: format
    agent: review-formatter
  - step: post
limits:
  max_files: 7
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipelines" / "pr-review.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_pipeline_runs_every_step_with_packaged_agents(tmp_path: Path) -> None:
    pipeline = load_pipeline(tmp_path)  # no override in an empty repository
    assert tuple(step.step for step in pipeline.steps) == STEP_ORDER
    assert pipeline.agent_for("triage") == "triage"
    assert pipeline.agent_for("deep") == "deep-reviewer"
    assert pipeline.agent_for("post") is None
    assert pipeline.limits == ReviewLimits()
    assert pipeline.source.endswith("pipelines/pr-review.yaml")
    require_agents(pipeline, load_config().agents)


def test_packaged_review_agents_keep_routine_work_local_while_a_local_model_answers() -> None:
    config = load_config()
    agents = config.agents
    for name in ("triage", "routine-reviewer", "review-formatter"):
        assert agents[name].chain[-1] == "llamacpp:gemma3-270m"
    # The packaged model cannot review (model facts): the deep review ends in a local model fit
    # for it, and without one its files are reported as not reviewed.
    assert agents["deep-reviewer"].chain[-1] == "ollama:gemma4:26b"
    tiers = [config.endpoints[ref.split(":")[0]].tier for ref in agents["routine-reviewer"].chain]
    # Local servers first; a cloud-only setup reaches the cheap cloud model instead of failing.
    assert tiers[:2] == ["local", "local"] and "cloud" in tiers
    assert agents["routine-reviewer"].privacy == "cloud_ok"
    assert agents["review-formatter"].privacy == "local_only"


def test_repository_override_replaces_the_default(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    pipeline = load_pipeline(tmp_path)
    assert [step.step for step in pipeline.steps] == ["routine", "format", "post"]
    assert pipeline.agent_for("deep") is None
    assert pipeline.limits.max_files == 7
    assert pipeline.limits.max_cloud_tokens == ReviewLimits().max_cloud_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            VALID.replace("  - step: routine\n    agent: routine-reviewer\n", ""),
            ":1: steps: value error, missing the 'routine' step",
        ),
        (
            VALID.replace("step: post", "step: posting"),
            ":6: steps[2].step: input should be 'triage', 'routine', 'deep', 'format' or 'post'"
            " (got 'posting'; did you mean 'post'?)",
        ),
        (VALID.replace("    agent: review-formatter\n", ""), "the 'format' step needs agent"),
        (VALID.replace("limits:\n  max_files: 7", "limit:\n  max_files: 7"), ":7: limit: unknown"),
        (VALID.replace("max_files: 7", "max_file: 7"), "(did you mean 'max_files'?)"),
        (VALID.replace("max_files: 7", "max_files: 0"), ":8: limits.max_files: input should be"),
        (
            "steps:\n  - step: format\n    agent: f\n  - step: routine\n    agent: r\n"
            "  - step: post\n",
            "each step once, in the order triage → routine → deep → format → post",
        ),
        ("steps: [", ":1: yaml:"),
        ("- step: post\n", ":1: top level: expected a mapping describing a review pipeline"),
        (VALID + "source: x\n", ":9: source: unknown field"),
    ],
)
def test_problems_are_one_line_with_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_pipeline_file(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path)) or "pipelines/pr-review.yaml:" in message
    assert expected in message


def test_unknown_agent_is_named_with_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path, VALID.replace("agent: routine-reviewer", "agent: routine-reviwer"))
    pipeline = load_pipeline(tmp_path)
    with pytest.raises(ConfigError, match=r"steps\[0\]\.agent: unknown agent 'routine-reviwer' "):
        require_agents(pipeline, load_config().agents)
    with pytest.raises(ConfigError, match="did you mean 'routine-reviewer'"):
        require_agents(pipeline, load_config().agents)
