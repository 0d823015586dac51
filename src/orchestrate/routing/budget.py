"""Cloud spending caps. Each call reserves its worst case first, so no single call can overshoot.

A budget holds one or more caps (`--budget`, per run, per UTC day, per UTC month); every
reservation must fit under all of them, and every settled cost counts against all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from orchestrate.ledger.money import usd, usd_limit

if TYPE_CHECKING:
    from orchestrate.config.schema import BudgetConfig
    from orchestrate.ledger.store import Ledger

OnCap = Literal["degrade", "stop"]


@dataclass
class Reservation:
    """Money held for one call until its real cost is known."""

    amount: float


@dataclass
class Cap:
    """One spending limit and what has been spent against it."""

    label: str
    """How the report names it: `--budget`, `per run`, `per day`, `per month`."""
    limit_usd: float
    """Most that may be spent against it."""
    spent_usd: float = 0.0
    """Spent against it so far, including spend from before this process (day and month caps)."""
    per_run: bool = False
    """Starts again from nothing at each run."""

    @property
    def left_usd(self) -> float:
        """What the cap still allows, before reservations."""
        return max(0.0, self.limit_usd - self.spent_usd)


@dataclass(frozen=True)
class BudgetHit:
    """A cloud call the budget refused: which cap stopped it and what that cap had seen."""

    label: str
    limit_usd: float
    spent_usd: float
    on_cap: OnCap

    def message(self) -> str:
        """The one-line error for a run that stops here."""
        return (
            f"cloud budget of {usd_limit(self.limit_usd)} ({self.label}) reached "
            f"({usd(self.spent_usd)} spent); raise it with --budget or budget: in "
            "agents/providers.yaml"
        )

    def note(self) -> str:
        """One report line: the cap was reached and what the run did about it."""
        action = "the run stopped" if self.on_cap == "stop" else "cloud models were left out"
        return (
            f"cloud budget of {usd_limit(self.limit_usd)} ({self.label}) reached "
            f"({usd(self.spent_usd)} spent): {action}"
        )


class Budget:
    """Tracks spend against its caps. The event loop is single-threaded and nothing here awaits,
    so a check-and-reserve can never interleave with another."""

    def __init__(
        self,
        cap_usd: float | None,
        spent_usd: float = 0.0,
        *,
        on_cap: OnCap = "degrade",
        label: str = "--budget",
    ) -> None:
        """One cap of `cap_usd` with `spent_usd` already spent against it; None means no cap."""
        caps = [] if cap_usd is None else [Cap(label, cap_usd, spent_usd)]
        self.caps: list[Cap] = caps
        self.on_cap: OnCap = on_cap
        """What happens at the cap: `degrade` leaves cloud models out, `stop` ends the run."""
        self.spent_usd = spent_usd
        """Settled spend through this budget."""
        self.reserved_usd = 0.0
        self.hit: BudgetHit | None = None
        """The latest refused call since the last `start_run`, if any."""

    @classmethod
    def from_config(
        cls,
        config: BudgetConfig,
        ledger: Ledger,
        cli_cap: float | None = None,
        *,
        now: datetime | None = None,
    ) -> Budget:
        """Every configured cap; day and month caps count the ledger's cloud spend since the
        current UTC day or month began."""
        moment = now or datetime.now(UTC)
        day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        budget = cls(None, on_cap=config.on_cap)
        if cli_cap is not None:
            budget.caps.append(Cap("--budget", cli_cap))
        if config.per_run_usd is not None:
            budget.caps.append(Cap("per run", config.per_run_usd, per_run=True))
        for label, limit, since in (
            ("per day", config.per_day_usd, day),
            ("per month", config.per_month_usd, month),
        ):
            if limit is not None:
                spent = ledger.cloud_spend_since(since.timestamp())
                budget.caps.append(Cap(label, limit, spent))
        return budget

    @property
    def binding(self) -> Cap | None:
        """The cap with the least left: the one the next call meets first."""
        return min(self.caps, key=lambda cap: cap.left_usd, default=None)

    @property
    def cap_usd(self) -> float | None:
        """The binding cap's limit; None when there is no cap."""
        cap = self.binding
        return None if cap is None else cap.limit_usd

    @property
    def left_usd(self) -> float | None:
        """What may still be spent; None when there is no cap."""
        cap = self.binding
        if cap is None:
            return None
        return max(0.0, cap.left_usd - self.reserved_usd)

    @property
    def budget_hit(self) -> bool:
        """Whether a cloud call was refused since the last `start_run`."""
        return self.hit is not None

    def start_run(self) -> None:
        """A new run begins: per-run caps start again and the hit is forgotten."""
        for cap in self.caps:
            if cap.per_run:
                cap.spent_usd = 0.0
        self.hit = None

    def allows(self, worst_case_usd: float) -> bool:
        """Whether a call of this worst case fits under every cap; notes the hit if not."""
        left = self.left_usd
        if left is not None and worst_case_usd > left:
            cap = self.binding
            assert cap is not None
            self.hit = BudgetHit(cap.label, cap.limit_usd, cap.spent_usd, self.on_cap)
            return False
        return True

    def reserve(self, worst_case_usd: float) -> Reservation | None:
        """Hold the worst case of a call; None if it would pass a cap (the call must not be sent)."""
        if not self.allows(worst_case_usd):
            return None
        self.reserved_usd += worst_case_usd
        return Reservation(worst_case_usd)

    def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace the held worst case with what the call really cost."""
        self.reserved_usd -= reservation.amount
        self.spent_usd += actual_usd
        for cap in self.caps:
            cap.spent_usd += actual_usd
