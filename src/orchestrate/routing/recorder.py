"""Turns attempts into ledger rows, budget settlements and cost events, so the router stays a loop."""

from __future__ import annotations

import time

from orchestrate.events import AttemptFinished, CostUpdated, EventBus
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import AttemptRecord, Ledger, Outcome, PrivacyAction, PrivacyRecord
from orchestrate.models.base import Model, ModelRequest, ModelResponse, Tier
from orchestrate.models.registry import split_ref
from orchestrate.privacy.guard import PrivacyDecision
from orchestrate.privacy.masking import mask_keys
from orchestrate.routing.budget import Budget, Reservation
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.routing.fit import estimate_request
from orchestrate.routing.replay import replayed_record

_OUTCOMES: dict[FailureKind, Outcome] = {
    FailureKind.RETRY: "retry",
    FailureKind.MOVE_ON: "move_on",
    FailureKind.CONTEXT_OVERFLOW: "context_overflow",
    FailureKind.STOP: "stop",
}


class AttemptRecorder:
    """Keeps the running totals of one router (one run)."""

    def __init__(
        self, ledger: Ledger, pricer: Pricer, events: EventBus, budget: Budget, run_id: str
    ):
        self.ledger = ledger
        self.pricer = pricer
        self.events = events
        self.budget = budget
        self.run_id = run_id
        self.cloud_usd = 0.0
        self.local_tokens = 0
        self.counterfactual_usd = 0.0

    def affordable(self, model: Model, request: ModelRequest) -> bool:
        """Whether the budget left covers the call's worst case (local calls always pass)."""
        return model.tier == "local" or self.budget.allows(self._worst_case(model, request))

    def reserve(self, model: Model, request: ModelRequest) -> Reservation | None:
        """Hold the call's worst case against the budget; local calls hold nothing and always pass."""
        if model.tier == "local":
            return Reservation(0.0)
        return self.budget.reserve(self._worst_case(model, request))

    def _worst_case(self, model: Model, request: ModelRequest) -> float:
        estimate = estimate_request(request)
        return self.pricer.worst_case(model.ref, model.tier, estimate, request.settings.max_tokens)

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose call failed (providers do not bill failed calls)."""
        self.budget.settle(reservation, 0.0)

    def answered(
        self,
        agent: str,
        model: Model,
        response: ModelResponse,
        *,
        outcome: Outcome,
        reservation: Reservation | None,
        attempt: int,
        detail: str | None = None,
    ) -> None:
        """Record a call that came back with an answer (valid or not: either way it was paid for).

        No reservation means the answer was replayed from a resumed run's store: it was paid
        for when it first came back, so its row costs nothing now.
        """
        if reservation is None:
            self.ledger.record(
                replayed_record(
                    self.run_id, agent, model, response, outcome=outcome, attempt=attempt
                )
            )
            return
        usage = response.usage
        cost = self.pricer.cost(model.ref, model.tier, usage, batch=response.batch)
        self.budget.settle(reservation, cost)
        counterfactual = cost if model.tier == "cloud" else self.pricer.counterfactual(usage)
        row = _row(
            self.run_id,
            agent,
            model.ref,
            model.tier,
            outcome=outcome,
            attempt=attempt,
            error_class=None if outcome in ("ok", "invalid_output") else outcome,
            detail=detail,
        )
        self._write(
            row.model_copy(
                update={
                    "answered_by": response.model,
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "cache_read_tokens": usage.cache_read_tokens,
                    "cache_write_tokens": usage.cache_write_tokens,
                    "cost_usd": cost,
                    "counterfactual_usd": counterfactual,
                    "latency_s": response.latency_s,
                    "host": response.host,
                    "batch": response.batch,
                }
            )
        )
        if model.tier == "cloud":
            self.cloud_usd += cost
        else:
            self.local_tokens += usage.prompt_tokens + usage.output_tokens
        self.counterfactual_usd += counterfactual
        self.events.emit(
            CostUpdated(
                run_id=self.run_id,
                cloud_usd=self.cloud_usd,
                local_tokens=self.local_tokens,
                counterfactual_usd=self.counterfactual_usd,
                budget_left_usd=self.budget.left_usd,
            )
        )

    def failed(
        self, agent: str, model: Model, failure: Failure, *, latency_s: float, attempt: int
    ) -> None:
        """Record an attempt that raised."""
        row = _row(
            self.run_id,
            agent,
            model.ref,
            model.tier,
            outcome=_OUTCOMES[failure.kind],
            attempt=attempt,
            error_class=failure.error_class,
            detail=failure.message,
        )
        self._write(row.model_copy(update={"latency_s": latency_s, "host": failure.host}))

    def skipped(self, agent: str, ref: str, tier: Tier, reason: str) -> None:
        """Record a model the chain passed over without calling it."""
        self._write(
            _row(
                self.run_id,
                agent,
                ref,
                tier,
                outcome="skipped",
                error_class="skipped",
                detail=reason,
            )
        )

    def privacy(self, agent: str, decision: PrivacyDecision, action: PrivacyAction) -> None:
        """Record what made a request private and what was done: rule and place, never the text."""
        now = time.time()
        for rule, where in dict.fromkeys((f.rule, f.where()) for f in decision.findings):
            self.ledger.record_privacy(
                PrivacyRecord(
                    run_id=self.run_id,
                    at=now,
                    agent=agent,
                    rule=rule,
                    location=where,
                    action=action,
                )
            )

    def _write(self, row: AttemptRecord) -> None:
        self.ledger.record(row)
        if row.outcome != "skipped":
            self.events.emit(
                AttemptFinished(
                    run_id=self.run_id,
                    agent=row.agent,
                    model=row.model,
                    tier=row.tier,
                    outcome=row.outcome,
                    error_class=row.error_class,
                    input_tokens=row.input_tokens + row.cache_read_tokens + row.cache_write_tokens,
                    output_tokens=row.output_tokens,
                    cost_usd=row.cost_usd,
                    latency_s=row.latency_s,
                    host=row.host,
                    batch=row.batch,
                )
            )


def _row(
    run_id: str,
    agent: str,
    ref: str,
    tier: Tier,
    *,
    outcome: Outcome,
    attempt: int = 1,
    error_class: str | None = None,
    detail: str | None = None,
) -> AttemptRecord:
    provider, _ = split_ref(ref)
    return AttemptRecord(
        run_id=run_id,
        at=time.time(),
        agent=agent,
        provider=provider,
        model=ref,
        tier=tier,
        attempt=attempt,
        outcome=outcome,
        error_class=error_class,
        # Errors can echo the key a request was sent with: mask our own keys by value.
        detail=mask_keys(detail or "")[:300] or None,
    )
