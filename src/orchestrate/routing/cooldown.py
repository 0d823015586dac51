"""Short, failure-rate-driven cooldowns, so a struggling model is skipped for a while, not forever."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from pydantic import BaseModel, Field


class CooldownConfig(BaseModel):
    """When a model is put aside."""

    window_s: float = Field(default=60.0, gt=0)
    """Only outcomes this recent count towards the failure rate."""
    min_sample: int = Field(default=3, ge=1)
    """Fewer outcomes than this in the window never trigger a cooldown on their own."""
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    """Share of failures in the window at which the model cools down."""
    cooldown_s: float = Field(default=30.0, ge=0)
    """How long a cooled model is skipped."""


class Cooldowns:
    """Per-model outcome windows. Hard failures (auth, unreachable, not found) cool at once."""

    def __init__(
        self, config: CooldownConfig | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.config = config or CooldownConfig()
        self._clock = clock
        self._outcomes: dict[str, deque[tuple[float, bool]]] = {}
        self._until: dict[str, float] = {}

    def record(self, ref: str, ok: bool) -> None:
        """Note one attempt's outcome; cools the model when its recent failure rate is too high."""
        now = self._clock()
        window = self._outcomes.setdefault(ref, deque())
        window.append((now, ok))
        while window and window[0][0] < now - self.config.window_s:
            window.popleft()
        failures = sum(1 for _, good in window if not good)
        if (
            len(window) >= self.config.min_sample
            and failures / len(window) >= self.config.failure_rate
        ):
            self.cool(ref)

    def cool(self, ref: str) -> None:
        """Skip this model for the cooldown period, starting now."""
        self._until[ref] = self._clock() + self.config.cooldown_s
        self._outcomes.pop(ref, None)

    def cooling(self, ref: str) -> float:
        """Seconds left in this model's cooldown; 0 when it is available."""
        return max(0.0, self._until.get(ref, 0.0) - self._clock())
