"""Where configuration is read from, in order: each layer's agent files and `providers.yaml`.

Later layers win: the packaged defaults, the user's own (`$XDG_CONFIG_HOME/orchestrate/`, else
`~/.config/orchestrate/`: `agents/*.yaml` and `providers.yaml`, set once for every repository),
the repository's `agents/`, then `--agents`. The user's layer is theirs, so it is trusted like
the packaged one and `--agents`; only the repository's layer is someone else's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

from orchestrate.config.defaults import default_agents_dir
from orchestrate.config.origins import LayerName
from orchestrate.config.providers_file import PROVIDERS_FILE
from orchestrate.engine.run_files import APP_NAME
from orchestrate.exceptions import ConfigError


@dataclass(frozen=True)
class ConfigLayer:
    """One layer: its name, its agents folder and its providers file (either may be absent)."""

    name: LayerName
    agents: Path
    providers: Path
    root: Path
    """The folder the user knows the layer as (shown by `config check`)."""


def user_config_dir() -> Path:
    """The user's own layer. platformdirs applies the XDG rule (`$XDG_CONFIG_HOME/orchestrate`,
    else `~/.config/orchestrate`; https://specifications.freedesktop.org/basedir-spec/latest/)
    and the platform's own folder where XDG is not the convention."""
    return platformdirs.user_config_path(APP_NAME)


def _folder(name: LayerName, folder: Path) -> ConfigLayer:
    return ConfigLayer(name, folder, folder / PROVIDERS_FILE, folder)


def _user_layer() -> ConfigLayer | None:
    root = user_config_dir()
    misplaced = root / "agents" / PROVIDERS_FILE
    if misplaced.is_file():
        raise ConfigError(
            f"{misplaced}: your own providers.yaml goes in {root / PROVIDERS_FILE} (move it there)"
        )
    layer = ConfigLayer("user", root / "agents", root / PROVIDERS_FILE, root)
    return layer if layer.agents.is_dir() or layer.providers.is_file() else None


def config_layers(repo: Path | None = None, agents_dir: Path | None = None) -> list[ConfigLayer]:
    """The layers `load_config` reads, in order, each folder once."""
    layers = [_folder("packaged", default_agents_dir())]
    user = _user_layer()
    if user is not None:
        layers.append(user)
    if repo is not None and (repo / "agents").is_dir():
        layers.append(_folder("repo", repo / "agents"))
    if agents_dir is not None:
        if not agents_dir.is_dir():
            raise ConfigError(
                f"--agents: {agents_dir} is not a directory "
                "(pass the folder holding your agent *.yaml files)"
            )
        layers.append(_folder("--agents", agents_dir))
    unique: dict[Path, ConfigLayer] = {}
    for layer in layers:
        unique.setdefault(layer.agents.resolve(), layer)
    return list(unique.values())
