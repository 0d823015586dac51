"""How long to wait before retrying the same model."""

from __future__ import annotations

import random

BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
MAX_RETRY_AFTER_S = 30.0
"""A provider asking for a longer wait than this is better left for the next model in the chain."""


def retry_delay(retry_number: int, retry_after: float | None, rng: random.Random) -> float | None:
    """Seconds to wait before retry `retry_number` (1-based); None means don't wait, move on."""
    if retry_after is not None:
        if retry_after > MAX_RETRY_AFTER_S:
            return None
        # A little jitter on top so parallel workers do not come back in lockstep.
        return retry_after + rng.uniform(0, 0.1 * max(retry_after, 1.0))
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (retry_number - 1))
    return rng.uniform(ceiling / 2, ceiling)
