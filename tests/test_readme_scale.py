"""README's "Scale out" says what the code does: its pool example is a valid `providers.yaml`,
and the numbers it gives (batch polling, the Action's defaults and limits) are the ones the
code and the workflow use."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from orchestrate.config.schema import CloudBatchSettings, ProvidersFile

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "batch-refactor.yml"


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Scale out" in text, "README has no Scale out section"
    return text.split("## Scale out", 1)[1].split("\n## ", 1)[0]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_pool_example_is_a_valid_providers_file() -> None:
    [example] = re.findall(r"```yaml\n(.*?)```", section(), re.DOTALL)
    parsed = ProvidersFile.model_validate(yaml.safe_load(example))
    pool = parsed.endpoints["ollama"]
    assert len(pool.hosts) == 2 and pool.concurrency == 4  # each host's limit, summed


def test_each_way_says_what_it_costs_and_how_long_it_takes() -> None:
    text = flat(section())
    for way in ("endpoint pool", "`--repos`", "Action matrix", "`--cloud-batch`"):
        assert f"| {way} |" in text
    assert "| what it costs | how long it can take |" in text


def test_the_batch_timing_it_gives_is_the_default() -> None:
    text, defaults = flat(section()), CloudBatchSettings()
    assert f"looked at after {defaults.first_poll_s:g} s" in text
    assert f"at least every {defaults.max_poll_s / 60:g} minutes" in text
    assert set(defaults.agents) == {"planner", "reviewer"}
    assert "the planner's and the reviewer's" in text


def test_the_action_defaults_it_gives_are_the_workflows() -> None:
    workflow: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    inputs = workflow[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on:` as True
    text = flat(section())
    assert f"`max-parallel` at a time (default {inputs['max-parallel']['default']})" in text
    assert f"${inputs['budget']['default']} by default" in text
    assert workflow["jobs"]["refactor"]["timeout-minutes"] == 6 * 60
    assert "at most 6 hours a repository" in text
    assert 'if [ "$count" -gt 256 ]' in WORKFLOW.read_text(encoding="utf-8")
    assert "a matrix at 256 jobs" in text
