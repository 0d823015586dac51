"""`load_config`: the layers (packaged, the user's, the repo's `agents/`, `--agents`) validated
as one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from orchestrate.config.advice import dropped_settings
from orchestrate.config.agent_file import LoadedAgent, load_agent_file
from orchestrate.config.defaults import default_agents_dir
from orchestrate.config.errors import config_error, display_path
from orchestrate.config.layers import ConfigLayer, config_layers
from orchestrate.config.origins import BUILT_IN, LayerName, Origins
from orchestrate.config.providers_file import PROVIDERS_FILE, LoadedProviders, load_providers_file
from orchestrate.config.refs import RefChecker
from orchestrate.config.schema import (
    BUILTIN_ENDPOINTS,
    BudgetConfig,
    ChecksSettings,
    CloudBatchSettings,
    EndpointConfig,
    OrchestrateConfig,
    PriceEntry,
    PrivacySettings,
    ProvidersFile,
)
from orchestrate.config.trust import TrustState, trust_state
from orchestrate.config.untrusted import screen_agent, screen_providers
from orchestrate.exceptions import ConfigError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.privacy.masking import watch_key_envs
from orchestrate.sandbox.check_env import refuse_key_envs

__all__ = ["ConfigError", "default_agents_dir", "load_config"]


def load_config(
    repo: Path | None = None, agents_dir: Path | None = None, *, trust_repo: bool = False
) -> OrchestrateConfig:
    """Every agent, endpoint and price, layered and validated; the first problem is a `ConfigError`.

    Layers, later winning: the packaged defaults, the user's own folder, `<repo>/agents/`, then
    `agents_dir` (`config_layers`). An agent file replaces a same-named agent from an earlier
    layer whole; `providers.yaml` files merge endpoints and prices by name, the last to set
    `reference_model` or `local_cost_per_mtok` wins, and each `budget:` cap comes from the last
    file that sets it. The repository's own `agents/` may not say where keys go or what is
    private until the user trusts it (`orchestrate trust`), or the caller vouches for it
    (`trust_repo`); what it said anyway is left out, and said in `notes`. The user's own folder
    and `agents_dir` are the user's, trusted like the packaged defaults.
    """
    merged = _Merged()
    for layer in config_layers(repo, agents_dir):
        state = "trusted" if trust_repo else _trust_of(layer, agents_dir)
        trusted = state == "trusted"
        if layer.providers.is_file():
            loaded = load_providers_file(layer.providers)
            merged.add_providers(loaded, layer.name, trusted=trusted)
        if layer.agents.is_dir():
            for agent in _load_directory(layer.agents):
                merged.add_agent(agent, layer.name, trusted=trusted)
        merged.said_of_layer(layer.root, state)
    return merged.resolve()


def _trust_of(layer: ConfigLayer, agents_dir: Path | None) -> TrustState:
    """The packaged defaults, the user's own folder and `--agents` are the user's; a
    repository's `agents/` counts once the user trusted it as it is now."""
    if layer.name != "repo":
        return "trusted"
    if agents_dir is not None and layer.agents.resolve() == agents_dir.resolve():
        return "trusted"
    return trust_state(layer.agents)


def _load_directory(directory: Path) -> list[LoadedAgent]:
    files = sorted(p for p in directory.glob("*.yaml") if p.name != PROVIDERS_FILE and p.is_file())
    by_name: dict[str, LoadedAgent] = {}
    for path in files:
        agent = load_agent_file(path)
        earlier = by_name.get(agent.config.name)
        if earlier is not None:
            message = (
                f"agent {agent.config.name!r} is already defined in "
                f"{display_path(earlier.path)} (rename one of them)"
            )
            raise config_error(path, agent.doc.line_of(("name",)), "name", message)
        by_name[agent.config.name] = agent
    return list(by_name.values())


_S = TypeVar("_S", bound=BaseModel)


def _overlay(base: _S, given: _S) -> _S:
    """`base` with the fields `given` sets itself (not its defaults)."""
    return base.model_copy(update={name: getattr(given, name) for name in given.model_fields_set})


_DEFAULT_REFERENCE: str = ProvidersFile.model_fields["reference_model"].default


@dataclass
class _Merged:
    """The layers folded together, remembering which file set what for later messages."""

    agents: dict[str, LoadedAgent] = field(default_factory=dict)
    loaded: list[LoadedAgent] = field(default_factory=list)
    endpoints: dict[str, EndpointConfig] = field(default_factory=lambda: dict(BUILTIN_ENDPOINTS))
    prices: dict[str, PriceEntry] = field(default_factory=lambda: dict(packaged_prices().prices))
    reference_model: str = _DEFAULT_REFERENCE
    reference_from: LoadedProviders | None = None
    local_cost_per_mtok: float = 0.0
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    checks: ChecksSettings = field(default_factory=ChecksSettings)
    cloud_batch: CloudBatchSettings = field(default_factory=CloudBatchSettings)
    agent_layers: dict[str, LayerName] = field(default_factory=dict)
    endpoint_layers: dict[str, str] = field(
        default_factory=lambda: dict.fromkeys(BUILTIN_ENDPOINTS, BUILT_IN)
    )
    endpoint_files: dict[str, str] = field(default_factory=dict)
    layer_ignored: list[str] = field(default_factory=list)
    """What the layer being read may not set and did (reset after each layer)."""
    honoured: list[str] = field(default_factory=list)
    """Each layer read, as the run says it at its start."""
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def add_providers(
        self, loaded: LoadedProviders, layer: LayerName, *, trusted: bool = True
    ) -> None:
        if not trusted:
            loaded, screened = screen_providers(loaded, self.endpoints)
            self.layer_ignored += screened.ignored
        self.endpoints.update(loaded.file.endpoints)
        for name in loaded.file.endpoints:
            self.endpoint_layers[name] = layer
            self.endpoint_files[name] = display_path(loaded.doc.path)
        self.prices.update(loaded.file.prices)
        if loaded.sets("reference_model"):
            self.reference_model = loaded.file.reference_model
            self.reference_from = loaded
        if loaded.sets("local_cost_per_mtok"):
            self.local_cost_per_mtok = loaded.file.local_cost_per_mtok
        if loaded.sets("budget"):
            given = loaded.file.budget
            update = {name: getattr(given, name) for name in given.model_fields_set}
            self.budget = self.budget.model_copy(update=update)
        if loaded.sets("privacy"):
            self.privacy = _overlay(self.privacy, loaded.file.privacy)
        if loaded.sets("checks"):
            self.checks = _overlay(self.checks, loaded.file.checks)
        if loaded.sets("cloud_batch"):
            self.cloud_batch = _overlay(self.cloud_batch, loaded.file.cloud_batch)

    def add_agent(self, agent: LoadedAgent, layer: LayerName, *, trusted: bool = True) -> None:
        if not trusted:
            earlier = self.agents.get(agent.config.name)
            kept, screened = screen_agent(
                agent, earlier.config if earlier else None, self.endpoints
            )
            self.layer_ignored += screened.ignored
            if kept is None:
                return
            agent = kept
        self.agents[agent.config.name] = agent
        self.agent_layers[agent.config.name] = layer
        self.loaded.append(agent)

    def said_of_layer(self, directory: Path, state: TrustState) -> None:
        """Note the layer as read, and (in one line) what it may not set but did."""
        where = display_path(directory)
        ignored, self.layer_ignored = self.layer_ignored, []
        self.ignored += ignored
        if not ignored:
            self.honoured.append(where)
            return
        self.honoured.append(f"{where} (not its {', '.join(ignored)})")
        again = " again" if state == "changed" else ""
        why = "changed since you trusted it" if state == "changed" else "not trusted yet"
        self.notes.append(
            f"{where}: {why}, so its {', '.join(ignored)} (where keys go, what is private, "
            f"how checks run) are ignored; read it, then run `orchestrate trust`{again} to use them"
        )

    def resolve(self) -> OrchestrateConfig:
        watch_key_envs(self.endpoints.values())
        refuse_key_envs(self.checks.env, "checks.env")
        checker = RefChecker(self.endpoints, self.prices)
        # Every file is checked, even one a later layer overrides: it is still broken on disk.
        for agent in self.loaded:
            checker.check_agent(agent)
        if self.reference_from is not None:
            doc = self.reference_from.doc
            checker.check(doc, ("reference_model",), self.reference_model, need_price=True)
        config = OrchestrateConfig(
            agents={name: agent.config for name, agent in self.agents.items()},
            endpoints=self.endpoints,
            prices=self.prices,
            reference_model=self.reference_model,
            local_cost_per_mtok=self.local_cost_per_mtok,
            budget=self.budget,
            privacy=self.privacy,
            checks=self.checks,
            cloud_batch=self.cloud_batch,
            sources={name: display_path(agent.path) for name, agent in self.agents.items()},
            origins=Origins(
                agents=self.agent_layers,
                endpoints=self.endpoint_layers,
                endpoint_files=self.endpoint_files,
            ),
        )
        notes = (*self.notes, *checker.notes, *dropped_settings(config))
        honoured = f"config: {'; '.join(self.honoured)}"
        update = {"notes": notes, "honoured": honoured, "ignored": tuple(self.ignored)}
        return config.model_copy(update=update)
