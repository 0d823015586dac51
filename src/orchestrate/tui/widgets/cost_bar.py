"""The always-visible spend line: cloud dollars, local tokens, savings and budget left."""

from __future__ import annotations

from dataclasses import dataclass

from textual.widgets import Static

from orchestrate.events import CostUpdated


@dataclass(frozen=True)
class CostTotals:
    """Spend of the whole session so far."""

    cloud_usd: float = 0.0
    local_tokens: int = 0
    counterfactual_usd: float = 0.0
    budget_left_usd: float | None = None

    def plus(self, update: CostUpdated) -> CostTotals:
        """These totals plus one router's running totals (each engine call has its own router)."""
        return CostTotals(
            cloud_usd=self.cloud_usd + update.cloud_usd,
            local_tokens=self.local_tokens + update.local_tokens,
            counterfactual_usd=self.counterfactual_usd + update.counterfactual_usd,
            budget_left_usd=update.budget_left_usd,
        )

    @property
    def saved_usd(self) -> float:
        """What running all of it on the reference cloud model would have cost more."""
        return max(0.0, self.counterfactual_usd - self.cloud_usd)

    def describe(self) -> str:
        """One line for the bar."""
        budget = "no cap" if self.budget_left_usd is None else f"${self.budget_left_usd:.4f} left"
        return (
            f"cloud ${self.cloud_usd:.4f} · local {self.local_tokens:,} tokens · "
            f"saved ${self.saved_usd:.4f} vs all-cloud · budget {budget}"
        )


class CostBar(Static):
    """Shows the app's `cost` and follows it as `CostUpdated` events arrive."""

    def on_mount(self) -> None:
        self.watch(self.app, "cost", self._show, init=True)

    def _show(self, totals: CostTotals) -> None:
        self.update(totals.describe())
