"""What a repository's own `agents/` may not decide until the user trusts it.

Settings that say where our keys go or what counts as private: an endpoint's `base_url`,
`api_key_env`, `tier` and `kind` (a new endpoint is all of those), the `privacy:` and `checks:`
sections of `providers.yaml`, and an agent's `privacy`. Everything else (models, prompts, prices,
budgets, concurrency) is the repository's to choose. Each setting left out is named, so the run
can say it in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from orchestrate.config.agent_file import LoadedAgent
from orchestrate.config.providers_file import LoadedProviders
from orchestrate.config.schema import AgentConfig, EndpointConfig, ProvidersFile
from orchestrate.exceptions import ConfigError
from orchestrate.models.registry import split_ref

ENDPOINT_FIELDS = ("kind", "tier", "base_url", "api_key_env")
"""An endpoint's fields that decide where a request (and our key) goes, and whether it is local."""
SECTIONS = ("privacy", "checks")
"""Sections of providers.yaml left out whole."""


@dataclass(frozen=True)
class Screened:
    """An untrusted layer's file with what it may not set left out, and what that was."""

    ignored: tuple[str, ...]
    """One phrase per setting left out: `base_url of anthropic`, `privacy of coder`, ..."""


def _provider(ref: str) -> str:
    """The endpoint a reference names; empty for a malformed one (reported later, with its line)."""
    try:
        return split_ref(ref)[0]
    except ConfigError:
        return ""


def screen_providers(
    loaded: LoadedProviders, before: Mapping[str, EndpointConfig]
) -> tuple[LoadedProviders, Screened]:
    """`loaded` keeping only what an untrusted repository may set; `before` is the endpoints
    of the trusted layers so far."""
    ignored: list[str] = []
    endpoints: dict[str, EndpointConfig] = {}
    for name, endpoint in loaded.file.endpoints.items():
        earlier = before.get(name)
        if earlier is None:
            ignored.append(f"endpoint {name}")
            continue
        changed = [f for f in ENDPOINT_FIELDS if getattr(endpoint, f) != getattr(earlier, f)]
        ignored += [f"{field} of {name}" for field in changed]
        endpoints[name] = endpoint.model_copy(update={f: getattr(earlier, f) for f in changed})
    ignored += [f"{section}:" for section in SECTIONS if loaded.sets(section)]
    # Dumped and read back without the sections, so they do not even count as set.
    data = loaded.file.model_dump(exclude_unset=True, exclude=set(SECTIONS))
    kept = ProvidersFile.model_validate({**data, "endpoints": endpoints})
    return replace(loaded, file=kept), Screened(tuple(ignored))


def screen_agent(
    agent: LoadedAgent, earlier: AgentConfig | None, endpoints: Mapping[str, EndpointConfig]
) -> tuple[LoadedAgent | None, Screened]:
    """`agent` with the privacy of the trusted layers' agent of its name (or the default), or
    None when its chain uses an endpoint only the untrusted layer declares."""
    config = agent.config
    unknown = sorted({p for p in map(_provider, config.chain) if p and p not in endpoints})
    if unknown:
        return None, Screened((f"{agent.path.name} (uses endpoint {', '.join(unknown)})",))
    privacy = (
        earlier.privacy if earlier is not None else AgentConfig.model_fields["privacy"].default
    )
    if config.privacy == privacy:
        return agent, Screened(())
    kept = replace(agent, config=config.model_copy(update={"privacy": privacy}))
    return kept, Screened((f"privacy of {config.name}",))
