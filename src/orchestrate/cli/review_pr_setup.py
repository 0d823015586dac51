"""`orchestrate review-pr`'s options, and what they decide before any model is called: which
models the steps use, the review's limits, and whether cloud models may be used at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.exceptions import ConfigError, MissingCredentialsError
from orchestrate.models.registry import split_ref
from orchestrate.review.limits import ReviewLimits
from orchestrate.review.pipeline_config import PipelineConfig, StepKind


@dataclass(frozen=True)
class ReviewPrOptions:
    """The command's options."""

    repo: str | None = None
    pr: int | None = None
    agents: Path | None = None
    workdir: Path = Path(".")
    max_files: int | None = None
    max_cloud_tokens: int | None = None
    max_comments: int | None = None
    budget: float | None = None
    step_models: Mapping[StepKind, str] = field(default_factory=dict)
    """Model overrides by step (`--triage-model`, `--routine-model`, `--deep-model`)."""
    fail_on_missing_key: bool = False
    local_only: bool = False
    dry_run: bool = False
    bot_login: str | None = None
    """The login the token posts as; None asks GitHub (GET /user, or the App's name)."""


def limits_for(pipeline: PipelineConfig, options: ReviewPrOptions) -> ReviewLimits:
    """The pipeline's limits with the command line's on top."""
    update = {
        "max_files": options.max_files,
        "max_cloud_tokens": options.max_cloud_tokens,
        "max_comments": options.max_comments,
    }
    chosen = {key: value for key, value in update.items() if value is not None}
    return ReviewLimits.model_validate({**pipeline.limits.model_dump(), **chosen})


def with_step_models(
    config: OrchestrateConfig, pipeline: PipelineConfig, models: Mapping[StepKind, str]
) -> OrchestrateConfig:
    """`config` with each named step's agent using another primary model (fallbacks kept)."""
    agents = dict(config.agents)
    for kind, ref in models.items():
        option = f"--{kind}-model {ref}"
        name = pipeline.agent_for(kind)
        if name is None or name not in agents:
            raise ConfigError(f"{option}: the review pipeline has no {kind} step; drop the option")
        provider, _ = split_ref(ref)
        endpoint = config.endpoints.get(provider)
        if endpoint is None:
            known = ", ".join(sorted(config.endpoints))
            raise ConfigError(f"{option}: unknown provider {provider!r} (one of: {known})")
        if endpoint.tier == "cloud" and ref not in config.prices:
            raise ConfigError(
                f"{option}: no price for this cloud model; add it under prices: "
                "in agents/providers.yaml"
            )
        agents[name] = agents[name].model_copy(update={"model": ref})
    return config.model_copy(update={"agents": agents})


def key_policy(
    config: OrchestrateConfig,
    pipeline: PipelineConfig,
    env: Mapping[str, str],
    options: ReviewPrOptions,
    *,
    fork: bool,
) -> tuple[bool, str | None]:
    """Whether to review with local models only, and the notice saying why."""
    if options.local_only:
        return True, "Reviewed with local models only (--local-only)."
    missing = missing_cloud_keys(config, pipeline, env)
    if not missing:
        return False, None
    names = ", ".join(missing)
    why = (
        "this pull request comes from a fork, and Actions gives forks no secrets"
        if fork
        else "pull requests from forks get no secrets"
    )
    if options.fail_on_missing_key:
        raise MissingCredentialsError(
            f"{names} not set, so the review's cloud models cannot run ({why}); "
            "set the secret, or drop --fail-on-missing-key to review with local models"
        )
    return True, (
        f"Cloud models were not used: {names} is not set ({why}). "
        "This review used local models only."
    )


def missing_cloud_keys(
    config: OrchestrateConfig, pipeline: PipelineConfig, env: Mapping[str, str]
) -> list[str]:
    """Key variables whose absence leaves some review step with no usable cloud model."""
    missing: set[str] = set()
    for step in pipeline.steps:
        agent = config.agents.get(step.agent or "")
        if agent is None or agent.privacy == "local_only":
            continue
        endpoints = [config.endpoints[split_ref(ref)[0]] for ref in agent.chain]
        cloud = [e for e in endpoints if e.tier == "cloud"]
        if cloud and not any(not e.api_key_env or env.get(e.api_key_env) for e in cloud):
            missing.update(e.api_key_env for e in cloud if e.api_key_env)
    return sorted(missing)
