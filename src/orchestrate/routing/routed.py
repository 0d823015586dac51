"""What a routed call comes back with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic

from pydantic import BaseModel
from typing_extensions import TypeVar

from orchestrate.models.base import ModelResponse
from orchestrate.routing.failures import Failure

# The parsed output type of a call, shared by the router and the chain walk. Without one, a call
# answers in text: `Routed[BaseModel]` with `output` None.
T = TypeVar("T", bound=BaseModel, default=BaseModel)


@dataclass(frozen=True)
class Routed(Generic[T]):
    """A successful call: the response, the model that served it, and the parsed output if asked."""

    response: ModelResponse
    model_ref: str
    output: T | None


@dataclass
class Turn(Generic[T]):
    """One model's turn in a chain: served, or the failure that ended it."""

    routed: Routed[T] | None = None
    failure: Failure | None = None
