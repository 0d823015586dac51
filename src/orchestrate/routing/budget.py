"""A cloud spending cap. Each call reserves its worst case first, so no single call can overshoot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Reservation:
    """Money held for one call until its real cost is known."""

    amount: float


class Budget:
    """Tracks spend against a cap. The event loop is single-threaded and nothing here awaits,
    so a check-and-reserve can never interleave with another."""

    def __init__(self, cap_usd: float | None, spent_usd: float = 0.0) -> None:
        self.cap_usd = cap_usd
        self.spent_usd = spent_usd
        self.reserved_usd = 0.0

    @property
    def left_usd(self) -> float | None:
        """What may still be spent; None when there is no cap."""
        if self.cap_usd is None:
            return None
        return max(0.0, self.cap_usd - self.spent_usd - self.reserved_usd)

    def reserve(self, worst_case_usd: float) -> Reservation | None:
        """Hold the worst case of a call; None if it would pass the cap (the call must not be sent)."""
        left = self.left_usd
        if left is not None and worst_case_usd > left:
            return None
        self.reserved_usd += worst_case_usd
        return Reservation(worst_case_usd)

    def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace the held worst case with what the call really cost."""
        self.reserved_usd -= reservation.amount
        self.spent_usd += actual_usd
