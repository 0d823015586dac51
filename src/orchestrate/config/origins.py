"""Which layer each agent and endpoint of a loaded configuration came from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

LayerName = Literal["packaged", "user", "repo", "--agents"]
"""The layers, in the order they are read (later ones win)."""
BUILT_IN = "built in"
"""The layer of an endpoint no providers file declared (it exists without one)."""


class Origins(BaseModel):
    """Which layer each agent and endpoint came from, for `config check`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: dict[str, LayerName] = {}
    endpoints: dict[str, str] = {}
    """Endpoint name to its layer, `built in` when no providers file declared it."""
    endpoint_files: dict[str, str] = {}
    """Endpoint name to the providers file that declared it last."""
