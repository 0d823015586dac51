"""Spend by agent and model, and the savings against sending every call to the cloud."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from orchestrate.ledger.edit_replies import EditReplies
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import AttemptRecord
from orchestrate.models.base import Tier, Usage


class CostRow(BaseModel):
    """Attempts of one agent on one model."""

    model_config = ConfigDict(frozen=True)

    agent: str
    """Agent name."""
    model: str
    """`provider:model`."""
    tier: Tier
    """`cloud` or `local`."""
    calls: int
    """Attempts sent (skipped models and replayed answers are not calls)."""
    replayed: int = 0
    """Answers a resumed run read back from what it had already paid for, instead of calling."""
    failed: int
    """Of those, attempts that did not end `ok`."""
    input_tokens: int
    """Uncached prompt tokens."""
    output_tokens: int
    """Generated tokens."""
    cache_read_tokens: int
    """Prompt tokens read from cache."""
    cache_write_tokens: int
    """Prompt tokens written to cache."""
    cost_usd: float
    """Actual spend as recorded."""

    def counts(self) -> list[str]:
        """The row as the cost tables print it, up to its cost (each table formats money its way)."""
        return [
            self.agent,
            self.model,
            self.tier,
            str(self.calls),
            str(self.failed),
            f"{self.input_tokens:,}",
            f"{self.output_tokens:,}",
            f"{self.cache_read_tokens:,}/{self.cache_write_tokens:,}",
        ]

    def usage(self) -> Usage:
        """The row's tokens as one usage."""
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
        )


class CostTotals(BaseModel):
    """The bottom line."""

    model_config = ConfigDict(frozen=True)

    cloud_usd: float
    """Actual cloud spend."""
    local_usd: float
    """Local spend at `local_cost_per_mtok` (0 unless set)."""
    local_tokens: int
    """All tokens local models handled."""
    counterfactual_usd: float
    """Cloud spend as is, plus local tokens priced at the reference model."""
    savings_usd: float
    """Counterfactual minus actual (cloud plus local) spend."""
    savings_pct: float
    """Savings as a percentage of the counterfactual; 0 when it is 0."""
    calls: int = 0
    """Calls sent to a model (answered or not)."""
    replayed: int = 0
    """Answers read back by resumed runs instead of calling: already counted when first paid."""


class CostReport(BaseModel):
    """What a run (or every run) cost and saved."""

    model_config = ConfigDict(frozen=True)

    run_id: str | None
    """The run reported, or None for all runs."""
    rows: list[CostRow]
    """By agent and model, in first-seen order."""
    totals: CostTotals
    """Sums and savings."""
    counterfactual_note: str
    """Exactly what the counterfactual prices, and at what rates."""
    edit_replies: list[EditReplies] = []
    """How often each model's worker replies parsed in their edit format, over all runs."""

    @classmethod
    def from_attempts(
        cls,
        attempts: Iterable[AttemptRecord],
        pricer: Pricer,
        run_id: str | None = None,
        edit_replies: Iterable[EditReplies] = (),
    ) -> CostReport:
        """Aggregate ledger rows; local tokens are revalued with `pricer`'s reference model."""
        rows = _rows(attempts)
        return cls(
            run_id=run_id,
            rows=rows,
            totals=_totals(rows, pricer),
            counterfactual_note=counterfactual_note(pricer),
            edit_replies=list(edit_replies),
        )


def counterfactual_note(pricer: Pricer) -> str:
    """One sentence saying what the all-cloud figure is."""
    price = pricer.reference_price
    return (
        f"every local call's tokens priced at {pricer.reference_model} "
        f"(${price.input:.2f}/${price.output:.2f} per Mtok); cloud calls at their actual cost"
    )


def _rows(attempts: Iterable[AttemptRecord]) -> list[CostRow]:
    groups: dict[tuple[str, str], list[AttemptRecord]] = {}
    for rec in attempts:
        if rec.outcome != "skipped":
            groups.setdefault((rec.agent, rec.model), []).append(rec)
    return [
        CostRow(
            agent=agent,
            model=model,
            tier=recs[0].tier,
            calls=sum(not r.replayed for r in recs),
            replayed=sum(r.replayed for r in recs),
            failed=sum(r.outcome != "ok" and not r.replayed for r in recs),
            input_tokens=sum(r.input_tokens for r in recs),
            output_tokens=sum(r.output_tokens for r in recs),
            cache_read_tokens=sum(r.cache_read_tokens for r in recs),
            cache_write_tokens=sum(r.cache_write_tokens for r in recs),
            cost_usd=sum(r.cost_usd for r in recs),
        )
        for (agent, model), recs in groups.items()
    ]


def _totals(rows: list[CostRow], pricer: Pricer) -> CostTotals:
    cloud = [r for r in rows if r.tier == "cloud"]
    local = [r for r in rows if r.tier == "local"]
    cloud_usd = sum(r.cost_usd for r in cloud)
    local_usd = sum(r.cost_usd for r in local)
    # Revalued now rather than summed from the ledger so the figure always matches the note.
    counterfactual = cloud_usd + sum(pricer.counterfactual(r.usage()) for r in local)
    savings = counterfactual - cloud_usd - local_usd
    return CostTotals(
        cloud_usd=cloud_usd,
        local_usd=local_usd,
        local_tokens=sum(r.usage().prompt_tokens + r.output_tokens for r in local),
        counterfactual_usd=counterfactual,
        savings_usd=savings,
        savings_pct=100 * savings / counterfactual if counterfactual else 0.0,
        calls=sum(r.calls for r in rows),
        replayed=sum(r.replayed for r in rows),
    )


def render_json(report: CostReport) -> str:
    """The report as indented JSON."""
    return report.model_dump_json(indent=2)
