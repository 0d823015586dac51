"""Who answers next: an agent's fallback chain, walked in one place.

A `Chain` is used where one model would be (fallback by composition, the way pydantic-ai's
`FallbackModel` is itself a model): `complete()` serves a request with the first model, from the
chain's current position, that can take it, and stays there. A model is passed over, with the
reason as an event and a ledger row, when it is cooling down after failures, a cloud model for
private input, not larger than a window that already overflowed, too small for this very prompt
(`routing/fit.py`), or more than the cloud budget has left. A caller that judges answers itself
(a worker whose edits keep failing their checks) calls `reject()`, and the next `complete()`
starts after the model it rejected: escalation is this walk, not a second one.

What happens within one model's turn (retries, backoff, the repair round, a cut prompt) is the
router's. What follows an exhausted chain is the caller's: a task that names its files runs as
written when no planner model could plan (`engine/planner.py`); a worker's subtask fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrate.config.schema import AgentConfig
from orchestrate.events import ModelSkipped, ModelSwapped
from orchestrate.exceptions import (
    BudgetExceededError,
    ModelRequestError,
    NoModelAvailableError,
    PrivacyBlockedError,
    PromptTooLargeError,
)
from orchestrate.models.base import Model, ModelRequest
from orchestrate.privacy.masking import mask_keys
from orchestrate.routing.capabilities import role_of
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.routing.fit import estimate_request
from orchestrate.routing.routed import Routed, T

if TYPE_CHECKING:
    from orchestrate.routing.router import Router

BUDGET_REASON = "cloud budget left is less than this call's worst case"


@dataclass(frozen=True)
class Target:
    """What a request is shaped for: one model and the room it gives, or (no `ref`) any model
    with no limit, to see the request whole (privacy screening reads that one)."""

    ref: str | None = None
    prompt_room: int | None = None
    """Tokens the prompt may take on this model (its window less the output asked for)."""
    output_tokens: int | None = None
    """Most tokens this model will be asked to write."""
    instruct: bool = True
    """Whether it follows instructions in chat turns (model facts); else it continues a document."""


Shaper = Callable[[Target], "ModelRequest | str"]
"""Builds the request for a target; a string instead says why this model cannot be asked."""


@dataclass
class _Walk:
    """One `complete()`: what has been passed over and why, and what overflowed."""

    reasons: list[str] = field(default_factory=list)
    overflow: int | None = None
    """The window a prompt already did not fit; only larger models are tried after it."""
    previous: tuple[str, str] | None = None
    windows: dict[str, int | None] = field(default_factory=dict)
    """The window each model tried was measured at."""
    too_large: bool = False
    """Some model was passed over (or overflowed) because this prompt is too large for it."""
    other: bool = False
    """Some model was passed over or failed for another reason."""
    answered: bool = False
    """Some model answered, but unusably (its output failed the schema even after repair)."""
    busy: bool = False
    """Some model was there but kept failing transiently (overloaded, 5xx, timeouts)."""


class Chain:
    """An agent's models in order, and where the agent stands in them."""

    def __init__(
        self,
        router: Router,
        agent: AgentConfig,
        refs: Sequence[str] | None = None,
        *,
        private: bool = False,
        files: Sequence[str] = (),
    ) -> None:
        self.router = router
        self.agent = agent
        self.refs = list(refs or agent.chain)
        self.private = private
        self.files = list(files)
        self.position = 0
        """Index of the first model the next `complete()` may use."""
        self.current: str | None = None
        """The model that served the last call."""

    async def complete(
        self, request: ModelRequest | Shaper, output_type: type[T] | None = None
    ) -> Routed[T]:
        """Serve the request with the first model from the current position that can."""
        shape: Shaper = request if callable(request) else (lambda _target: request)
        whole = self._with_schema(_as_request(shape(Target())), output_type)
        remaining = self.refs[self.position :]
        screen = self.router.screen.for_walk(self.agent, whole, remaining, self.files, self.private)
        walk = _Walk()
        for ref in self._candidates(remaining, screen.at_once, walk):
            sendable = await screen.sendable(ref)
            if isinstance(sendable, str):  # private: this cloud model is passed over
                self.keep_local(ref, sendable, remaining, walk)
                continue
            ready = await self._prepare(ref, shape, output_type, (whole, sendable), walk)
            if ready is None:
                continue
            model, sent = ready
            if walk.previous is not None:
                self._emit_swap(walk.previous, ref)
            turn = await self.router.take_turn(self.agent, model, sent, output_type)
            if turn.routed is not None:
                self.current = ref
                self.position = self.refs.index(ref)
                return turn.routed
            assert turn.failure is not None
            self._judge(ref, turn.failure, walk)
        raise self._exhausted(walk)

    def reject(self) -> tuple[str, str] | None:
        """Move past the model that served the last call (its answers were not good enough):
        `(it, the next in the chain)`, or None when it was the last."""
        if self.current is None:
            return None
        index = self.refs.index(self.current)
        if index + 1 >= len(self.refs):
            return None
        self.position, self.current = index + 1, None
        return self.refs[index], self.refs[index + 1]

    def tried(self) -> list[str]:
        """The models up to the current position: what an exhausted caller tried."""
        return self.refs[: self.position + 1]

    def _candidates(
        self, remaining: list[str], private_reason: str | None, walk: _Walk
    ) -> list[str]:
        if private_reason is None:
            return remaining
        local = [ref for ref in remaining if self.router.facts.tier(ref) == "local"]
        for ref in remaining:
            if ref not in local:
                self.keep_local(ref, private_reason, remaining, walk)
        return local

    def keep_local(self, ref: str, private_reason: str, remaining: list[str], walk: _Walk) -> None:
        """Pass over cloud model `ref` for a private request; refuse if no local model is left."""
        self._skip(ref, f"{private_reason}: cloud models are never used", walk)
        if not any(self.router.facts.tier(other) == "local" for other in remaining):
            raise PrivacyBlockedError(
                f"agent '{self.agent.name}' has private input ({private_reason}) and no local "
                "model in its chain; add a local fallback such as llamacpp:gemma3-270m"
            )

    async def _prepare(
        self,
        ref: str,
        shape: Shaper,
        output_type: type[T] | None,
        whole: tuple[ModelRequest, ModelRequest],
        walk: _Walk,
    ) -> tuple[Model, ModelRequest] | None:
        """The model and the request to send it, or None (said why) if it is passed over."""
        unfit = self.router.facts.unfit_reason(ref, role_of(self.agent.name))
        if unfit is not None:  # model facts: this model cannot do the agent's role at all
            self._skip(ref, unfit, walk)
            return None
        left = self.router.cooldowns.cooling(ref)
        model = self.router.model(ref) if left <= 0 else None
        if model is None or isinstance(model, str):
            why = model or f"cooling down for {left:.0f}s after recent failures"
            self._skip(ref, why, walk)
            return None
        facts, fit = self.router.facts, self.router.fit
        output = facts.capped(ref, whole[0]).settings.max_tokens
        longest = estimate_request(whole[0])  # shaped requests are never longer than the whole
        window = await fit.window(self.agent, model, whole[0].settings, longest)
        walk.windows[ref] = window.tokens
        if _not_larger(window.tokens, walk.overflow):
            reason = f"context window {window.tokens} is not larger than the one that overflowed"
            self._skip(ref, reason, walk, size=True)
            return None
        room = None if window.tokens is None else window.tokens - output
        shaped = shape(Target(ref, room, output, facts.capabilities(ref).instruct))
        if isinstance(shaped, str):
            self._skip(ref, shaped, walk, size=True)
            return None
        sent = facts.capped(ref, self._with_schema(shaped, output_type))
        if model.tier == "cloud":
            sent = await self.router.screen.for_cloud(self.agent, sent, whole, self.files)
        measured = await fit.measure(self.agent, model, sent)
        if not measured.fits:
            self._skip(ref, measured.reason(), walk, size=True)
            return None
        if not self.router.recorder.affordable(model, sent):
            self._over_budget(ref, walk)
            return None
        return model, sent

    def _judge(self, ref: str, failure: Failure, walk: _Walk) -> None:
        """What a model's failed turn means for the rest of the walk."""
        if failure.error_class == "budget":
            self._over_budget(ref, walk)
            return
        walk.reasons.append(f"{ref}: {failure.error_class}")
        walk.answered = walk.answered or failure.error_class == "invalid_output"
        walk.busy = walk.busy or failure.kind is FailureKind.RETRY
        if failure.kind is FailureKind.STOP:
            raise ModelRequestError(
                f"{ref} rejected the request ({mask_keys(failure.message)}); fix the request"
            )
        if failure.kind is FailureKind.CONTEXT_OVERFLOW:
            # A server caught cutting the prompt taught the window it really runs.
            learned = self.router.fit.learned(ref)
            walk.overflow = learned or walk.windows.get(ref) or walk.overflow
            walk.too_large = True
        else:
            walk.other = True
        # A model's own limits are a configuration problem the user should fix: the swap says
        # so in full, not as a bare label.
        unsupported = failure.error_class == "unsupported"
        walk.previous = (ref, mask_keys(failure.message) if unsupported else failure.error_class)

    def _over_budget(self, ref: str, walk: _Walk) -> None:
        self._skip(ref, BUDGET_REASON, walk)
        hit = self.router.budget.hit
        if hit is not None and hit.on_cap == "stop":
            raise BudgetExceededError(hit.message())

    def _skip(self, ref: str, reason: str, walk: _Walk, *, size: bool = False) -> None:
        walk.reasons.append(f"{ref}: {reason}")
        if size:
            walk.too_large = True
        else:
            walk.other = True
        self.router.events.emit(
            ModelSkipped(
                run_id=self.router.recorder.run_id,
                agent=self.agent.name,
                model=ref,
                reason=mask_keys(reason),
            )
        )
        self.router.recorder.skipped(self.agent.name, ref, self.router.facts.tier(ref), reason)

    def _emit_swap(self, previous: tuple[str, str], ref: str) -> None:
        self.router.events.emit(
            ModelSwapped(
                run_id=self.router.recorder.run_id,
                agent=self.agent.name,
                from_model=previous[0],
                to_model=ref,
                reason=previous[1],
            )
        )

    def _exhausted(self, walk: _Walk) -> NoModelAvailableError:
        said = "; ".join(walk.reasons) or "empty chain"
        if walk.too_large and not walk.other:
            return PromptTooLargeError(
                f"agent '{self.agent.name}': the prompt fits no model of its chain ({said}); "
                "give the task less to read or add a model with a larger context window"
            )
        return NoModelAvailableError(
            f"agent '{self.agent.name}': no model could answer ({said}); "
            "run `orchestrate doctor` to see what is missing",
            answered=walk.answered,
            busy=walk.busy,
        )

    @staticmethod
    def _with_schema(request: ModelRequest, output_type: type[T] | None) -> ModelRequest:
        if output_type is None or request.output_schema is not None:
            return request
        return request.model_copy(
            update={
                "output_schema": output_type.model_json_schema(),
                "schema_name": output_type.__name__,
                "output_type": output_type,
            }
        )


def _not_larger(window: int | None, overflowed: int | None) -> bool:
    return window is not None and overflowed is not None and window <= overflowed


def _as_request(shaped: ModelRequest | str) -> ModelRequest:
    if isinstance(shaped, str):
        raise ValueError(f"a shaper must build the whole request for Target(): {shaped}")
    return shaped
