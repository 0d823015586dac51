"""Every model call goes through `Router.complete`: one loop owns retries, fallbacks and cooldowns,
and every attempt becomes an event and a ledger row."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel

from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.events import AttemptStarted, EventBus, ModelSkipped, ModelSwapped, TokenStreamed
from orchestrate.exceptions import (
    BudgetExceededError,
    ConfigError,
    MissingCredentialsError,
    MissingDependencyError,
    ModelRequestError,
    NoModelAvailableError,
    PrivacyBlockedError,
)
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger, Outcome
from orchestrate.models.base import Model, ModelRequest, ModelResponse, TokenCallback
from orchestrate.models.registry import infer_model
from orchestrate.privacy.guard import PrivacyGuard
from orchestrate.privacy.masking import mask_keys, watch_key_envs
from orchestrate.routing.backoff import retry_delay
from orchestrate.routing.budget import Budget, Reservation
from orchestrate.routing.cooldown import Cooldowns
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.routing.model_facts import ModelFacts
from orchestrate.routing.recorder import AttemptRecorder
from orchestrate.routing.repair import parse_output, repair_request
from orchestrate.routing.replay import ReplayStore
from orchestrate.routing.routed import Routed, Turn
from orchestrate.routing.screening import PrivacyScreen

T = TypeVar("T", bound=BaseModel)


class Router:
    """Routes agents' requests along their fallback chains."""

    def __init__(
        self,
        config: OrchestrateConfig,
        ledger: Ledger,
        *,
        events: EventBus | None = None,
        budget: Budget | None = None,
        cooldowns: Cooldowns | None = None,
        run_id: str = "",
        stream_tokens: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        guard: PrivacyGuard | None = None,
        replay: ReplayStore | None = None,
    ) -> None:
        self.config = config
        self.guard = guard or PrivacyGuard(config.privacy)
        watch_key_envs(config.endpoints.values())
        self.events = events or EventBus()
        self.budget = budget or Budget(None)
        self.cooldowns = cooldowns or Cooldowns()
        self.pricer = Pricer.from_config(config)
        self.facts = ModelFacts(config, self.pricer)
        self.recorder = AttemptRecorder(ledger, self.pricer, self.events, self.budget, run_id)
        self.screen = PrivacyScreen(self.guard, self.recorder, self.facts)
        self._stream_tokens = stream_tokens
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._models: dict[str, Model] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self.replay = replay
        """Answers this run already paid for (a resumed run replays them instead of paying)."""

    async def complete(
        self,
        agent: AgentConfig,
        request: ModelRequest,
        output_type: type[T] | None = None,
        *,
        chain: Sequence[str] | None = None,
        private: bool = False,
        files: Sequence[str] = (),
    ) -> Routed[T]:
        """Serve `request` with the first model in the chain that can; raise if none could.

        The privacy guard reads the request (and the paths in `files`) first: a private one goes
        to local models only, or to cloud models redacted if the agent says `privacy: redact`.
        """
        if output_type is not None and request.output_schema is None:
            request = request.model_copy(
                update={
                    "output_schema": output_type.model_json_schema(),
                    "schema_name": output_type.__name__,
                }
            )
        refs = list(chain or agent.chain)
        cloud_request, private_reason = self.screen.check(
            agent, request, refs, files=files, private=private
        )
        reasons: list[str] = []
        candidates = self._candidates(agent, refs, private_reason, reasons)
        overflow_window: int | None = None
        previous: tuple[str, str] | None = None
        for ref in candidates:
            skip = self._skip_reason(agent, ref, overflow_window)
            model = None if skip else self._model(agent, ref, reasons)
            if skip or model is None:
                if skip:
                    self._skipped(agent, ref, skip, reasons)
                continue
            if previous is not None:
                self.events.emit(
                    ModelSwapped(
                        run_id=self.recorder.run_id,
                        agent=agent.name,
                        from_model=previous[0],
                        to_model=ref,
                        reason=previous[1],
                    )
                )
            sent = request if model.tier == "local" else cloud_request
            outcome = await self._try_model(agent, model, sent, output_type)
            if outcome.routed is not None:
                return outcome.routed
            failure = outcome.failure
            assert failure is not None
            reasons.append(f"{ref}: {failure.error_class}")
            if failure.kind is FailureKind.STOP:
                raise ModelRequestError(
                    f"{ref} rejected the request ({mask_keys(failure.message)}); fix the request"
                )
            if failure.kind is FailureKind.CONTEXT_OVERFLOW:
                overflow_window = self.facts.window(agent, ref) or request.text_size() // 4
            previous = (ref, failure.error_class)
        raise NoModelAvailableError(
            f"agent '{agent.name}': no model could answer ({'; '.join(reasons) or 'empty chain'}); "
            "run `orchestrate doctor` to see what is missing"
        )

    def _candidates(
        self, agent: AgentConfig, chain: list[str], private: str | None, reasons: list[str]
    ) -> list[str]:
        if private is None:
            return chain
        local = [ref for ref in chain if self.facts.tier(ref) == "local"]
        for ref in chain:
            if ref not in local:
                self._skipped(agent, ref, f"{private}: cloud models are never used", reasons)
        if not local:
            raise PrivacyBlockedError(
                f"agent '{agent.name}' has private input ({private}) and no local model in its "
                "chain; add a local fallback such as llamacpp:gemma3-270m"
            )
        return local

    def _skip_reason(self, agent: AgentConfig, ref: str, overflow_window: int | None) -> str | None:
        left = self.cooldowns.cooling(ref)
        if left > 0:
            return f"cooling down for {left:.0f}s after recent failures"
        if overflow_window is not None:
            window = self.facts.window(agent, ref)
            if window is not None and window <= overflow_window:
                return f"context window {window} is not larger than the one that overflowed"
        return None

    def _skipped(self, agent: AgentConfig, ref: str, reason: str, reasons: list[str]) -> None:
        reasons.append(f"{ref}: {reason}")
        self.events.emit(
            ModelSkipped(
                run_id=self.recorder.run_id, agent=agent.name, model=ref, reason=mask_keys(reason)
            )
        )
        self.recorder.skipped(agent.name, ref, self.facts.tier(ref), reason)

    def _model(self, agent: AgentConfig, ref: str, reasons: list[str]) -> Model | None:
        if ref not in self._models:
            try:
                self._models[ref] = infer_model(ref, self.config.endpoints)
            except (MissingCredentialsError, MissingDependencyError, ConfigError) as error:
                self._skipped(agent, ref, str(error), reasons)
                return None
        return self._models[ref]

    def _limit(self, provider: str) -> asyncio.Semaphore:
        if provider not in self._limits:
            self._limits[provider] = asyncio.Semaphore(self.config.endpoints[provider].concurrency)
        return self._limits[provider]

    def _on_token(self, agent: AgentConfig, ref: str) -> TokenCallback | None:
        if not self._stream_tokens:
            return None
        run_id = self.recorder.run_id

        def emit(text: str) -> None:
            self.events.emit(TokenStreamed(run_id=run_id, agent=agent.name, model=ref, text=text))

        return emit

    async def _send(
        self, agent: AgentConfig, model: Model, request: ModelRequest, attempt: int
    ) -> tuple[ModelResponse, Reservation | None] | Failure:
        """One attempt on the wire, under the endpoint's concurrency limit and the budget."""
        if self.replay is not None:
            stored = self.replay.take(agent.name, model.ref, request)
            if stored is not None:
                return stored, None
        reservation = self.recorder.reserve(model, request)
        if reservation is None:
            reason = "cloud budget left is less than this call's worst case"
            self._skipped(agent, model.ref, reason, [])
            hit = self.budget.hit
            if hit is not None and hit.on_cap == "stop":
                raise BudgetExceededError(hit.message())
            return Failure(FailureKind.MOVE_ON, "budget", reason)
        started = time.perf_counter()
        try:
            async with self._limit(model.provider):
                response = await model.request(request, self._on_token(agent, model.ref))
        except asyncio.CancelledError:
            self.recorder.release(reservation)
            raise
        except Exception as error:
            self.recorder.release(reservation)
            failure = model.classify(error)
            if failure is None:
                raise
            self.recorder.failed(
                agent.name, model, failure, latency_s=time.perf_counter() - started, attempt=attempt
            )
            return failure
        if self.replay is not None:
            self.replay.put(agent.name, model.ref, request, response)
        return response, reservation

    async def _try_model(
        self, agent: AgentConfig, model: Model, request: ModelRequest, output_type: type[T] | None
    ) -> Turn[T]:
        request = self.facts.capped(model.ref, request)
        repair_left = 1
        retry = 0
        while True:
            self.events.emit(
                AttemptStarted(
                    run_id=self.recorder.run_id,
                    agent=agent.name,
                    model=model.ref,
                    attempt=retry + 1,
                )
            )
            result = await self._send(agent, model, request, retry + 1)
            if isinstance(result, Failure):
                failure = self._judge(model, request, result, retry >= agent.retries)
                if failure is not None:
                    return Turn(failure=failure)
                retry += 1
                delay = retry_delay(retry, result.retry_after, self._rng)
                if delay is None:
                    self.cooldowns.cool(model.ref)
                    return Turn(failure=result)
                await self._sleep(delay)
                continue
            response, reservation = result
            output, error = parse_output(output_type, response.text)
            outcome: Outcome = "ok" if error is None else "invalid_output"
            self.cooldowns.record(model.ref, ok=error is None)
            self.recorder.answered(
                agent.name,
                model,
                response,
                outcome=outcome,
                reservation=reservation,
                attempt=retry + 1,
            )
            if error is None:
                return Turn(Routed(response, model.ref, output))
            if repair_left == 0:
                return Turn(failure=Failure(FailureKind.MOVE_ON, "invalid_output", str(error)))
            repair_left -= 1
            request = repair_request(request, response.text, error)

    def _judge(
        self, model: Model, request: ModelRequest, failure: Failure, retries_spent: bool
    ) -> Failure | None:
        """The failure that ends this model's turn, or None to retry it."""
        if failure.error_class == "budget":
            return failure
        self.cooldowns.record(model.ref, ok=False)
        if failure.error_class == "cut_stream" and not request.repeatable:
            return Failure(FailureKind.STOP, "cut_stream", failure.message)
        if failure.kind is FailureKind.MOVE_ON:
            self.cooldowns.cool(model.ref)
        if failure.kind is not FailureKind.RETRY or retries_spent:
            return failure
        return None

    async def aclose(self) -> None:
        """Close every model client this router opened."""
        for model in self._models.values():
            await model.aclose()
