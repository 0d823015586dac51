"""A dry run's cost estimate: what carrying out a plan once would cost, before anything is edited.

Deliberately simple and stated as such: one reply per subtask and one review, prompts sized from
the files each subtask names, whole-file answers. Fix rounds, escalations and follow-ups add to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.engine.plan import Plan, Subtask
from orchestrate.ledger.pricing import Pricer
from orchestrate.models.base import Usage
from orchestrate.models.registry import split_ref
from orchestrate.routing.fit import CHARS_PER_TOKEN

PROMPT_OVERHEAD_CHARS = 2000
"""Instructions and framing every worker or reviewer prompt carries besides the files."""
NEW_FILE_CHARS = 1500
"""Assumed size of a file a subtask creates."""
REVIEW_OUTPUT_TOKENS = 800
"""A review's verdict, comments and the odd follow-up."""

ASSUMPTIONS = (
    "one reply per subtask and one review, prompts sized from the files named; "
    "fix rounds, escalations and follow-ups cost more"
)


class Estimate(BaseModel):
    """The likely cost of running a plan once, on the models each agent will get now."""

    cloud_usd: float = 0.0
    """Cloud spend."""
    local_tokens: int = 0
    """Tokens local models would handle."""
    counterfactual_usd: float = 0.0
    """The same calls all on the reference cloud model."""
    assumptions: str = ASSUMPTIONS
    """What the estimate counts."""

    def add(self, ref: str | None, config: OrchestrateConfig, pricer: Pricer, usage: Usage) -> None:
        """Count one call on `ref` (None: no usable model, so nothing would be spent)."""
        if ref is None:
            return
        endpoint = config.endpoints.get(split_ref(ref)[0])
        if endpoint is not None and endpoint.tier == "local":
            self.local_tokens += usage.prompt_tokens + usage.output_tokens
            self.counterfactual_usd += pricer.counterfactual(usage)
            return
        cost = pricer.cost(ref, "cloud", usage)
        self.cloud_usd += cost
        self.counterfactual_usd += cost


def _size(repo: Path, path: str) -> int | None:
    target = repo / path
    return target.stat().st_size if target.is_file() else None


def _worker_usage(subtask: Subtask, repo: Path, system_chars: int) -> Usage:
    edits = [_size(repo, path) for path in subtask.edit_files]
    reads = sum(_size(repo, path) or 0 for path in subtask.read_files)
    shown = sum(size or 0 for size in edits) + reads
    written = sum(NEW_FILE_CHARS if size is None else size for size in edits)
    prompt = system_chars + len(subtask.spec) + shown + PROMPT_OVERHEAD_CHARS
    return Usage(input_tokens=prompt // CHARS_PER_TOKEN, output_tokens=written // CHARS_PER_TOKEN)


def estimate_plan(
    plan: Plan,
    config: OrchestrateConfig,
    pricer: Pricer,
    repo: Path,
    routes: Mapping[str, str | None],
) -> Estimate:
    """Estimate running `plan` once, each agent on the model `routes` says it will get."""
    estimate = Estimate()
    diff_chars = 0
    for subtask in plan.subtasks:
        agent = config.agents.get(subtask.agent)
        system = len(agent.system_prompt) if agent else 0
        usage = _worker_usage(subtask, repo, system)
        estimate.add(routes.get(subtask.agent), config, pricer, usage)
        diff_chars += usage.output_tokens * CHARS_PER_TOKEN
    reviewer = config.agents.get("reviewer")
    system = len(reviewer.system_prompt) if reviewer else 0
    prompt = system + len(plan.model_dump_json()) + diff_chars + PROMPT_OVERHEAD_CHARS
    review = Usage(input_tokens=prompt // CHARS_PER_TOKEN, output_tokens=REVIEW_OUTPUT_TOKENS)
    estimate.add(routes.get("reviewer"), config, pricer, review)
    return estimate
