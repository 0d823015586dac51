"""Where the shipped agent YAML lives: inside the wheel, or the source checkout's `agents/`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from orchestrate.exceptions import ConfigError


def default_agents_dir() -> Path:
    """The packaged default agents directory.

    Wheels carry it as `orchestrate/defaults/agents` (hatch force-include); editable installs and
    source checkouts have no such folder, so fall back to the repository's top-level `agents/`.
    """
    packaged = Path(str(resources.files("orchestrate").joinpath("defaults", "agents")))
    if packaged.is_dir():
        return packaged
    # src/orchestrate/config/defaults.py → parents[3] is the checkout root.
    checkout = Path(__file__).resolve().parents[3] / "agents"
    if checkout.is_dir():
        return checkout
    raise ConfigError(
        f"default agents not found (looked in {packaged} and {checkout}); reinstall orchestrate"
    )
