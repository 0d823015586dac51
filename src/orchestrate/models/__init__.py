"""Model backends: one file per wire protocol, loaded lazily by `registry.infer_model`."""

from orchestrate.models.base import (
    Message,
    Model,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    Tier,
    Usage,
)

__all__ = ["Message", "Model", "ModelRequest", "ModelResponse", "ModelSettings", "Tier", "Usage"]
