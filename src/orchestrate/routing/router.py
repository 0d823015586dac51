"""Every model call goes through the router: the chain walk (`routing/chain.py`) decides which
model answers next; the router runs each model's turn (retries, backoff, the repair round, a cut
prompt) and turns every attempt into an event and a ledger row."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence

from orchestrate.batching.model import BatchedModel
from orchestrate.batching.queue import BatchQueue
from orchestrate.config.schema import AgentConfig, OrchestrateConfig
from orchestrate.events import (
    AttemptStarted,
    EventBus,
    PromptTruncated,
    RunNotice,
    TokenStreamed,
)
from orchestrate.exceptions import (
    ConfigError,
    MissingCredentialsError,
    MissingDependencyError,
    PriceUnknownError,
)
from orchestrate.ledger.pricing import Pricer
from orchestrate.ledger.store import Ledger, Outcome
from orchestrate.models.base import Model, ModelRequest, ModelResponse, TokenCallback
from orchestrate.models.registry import infer_model
from orchestrate.privacy.guard import PrivacyGuard
from orchestrate.privacy.masking import mask_request, watch_key_envs
from orchestrate.routing.backoff import retry_delay
from orchestrate.routing.budget import Budget, Reservation
from orchestrate.routing.chain import BUDGET_REASON, Chain, Shaper
from orchestrate.routing.cooldown import Cooldowns
from orchestrate.routing.failures import Failure, FailureKind
from orchestrate.routing.fit import PromptFit
from orchestrate.routing.model_facts import ModelFacts
from orchestrate.routing.recorder import AttemptRecorder
from orchestrate.routing.repair import parse_output, repair_request
from orchestrate.routing.replay import ReplayStore
from orchestrate.routing.routed import Routed, T, Turn
from orchestrate.routing.screening import PrivacyScreen


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
        batch: BatchQueue | None = None,
    ) -> None:
        self.config = config
        self.guard = guard or PrivacyGuard(config.privacy)
        watch_key_envs(config.endpoints.values())
        self.events = events or EventBus()
        self.budget = budget or Budget(None)
        self.cooldowns = cooldowns or Cooldowns()
        self.pricer = Pricer.from_config(config)
        self.facts = ModelFacts(config, self.pricer)
        self.fit = PromptFit(self.facts)
        self.recorder = AttemptRecorder(ledger, self.pricer, self.events, self.budget, run_id)
        self.screen = PrivacyScreen(self.guard, self.recorder, self.facts)
        self._stream_tokens = stream_tokens
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._models: dict[str, Model] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self.replay = replay
        """Answers this run already paid for (a resumed run replays them instead of paying)."""
        self.batch = batch
        """`--cloud-batch`: the queue the cloud calls that can wait go through."""
        self._batched: dict[tuple[str, str], Model] = {}

    async def complete(
        self,
        agent: AgentConfig,
        request: ModelRequest | Shaper,
        output_type: type[T] | None = None,
        *,
        chain: Sequence[str] | None = None,
        private: bool = False,
        files: Sequence[str] = (),
    ) -> Routed[T]:
        """Serve `request` with the first model in the chain that can; raise if none could.

        The privacy guard reads the request (and the paths in `files`) first: a private one goes
        to local models only, or to cloud models redacted if the agent says `privacy: redact`.
        Who answers is decided by the chain walk (`routing/chain.py`); a caller that keeps
        asking the same agent (a worker) holds its own `Chain` instead.
        """
        walk = self.chain(agent, chain, private=private, files=files)
        return await walk.complete(request, output_type)

    def chain(
        self,
        agent: AgentConfig,
        refs: Sequence[str] | None = None,
        *,
        private: bool = False,
        files: Sequence[str] = (),
    ) -> Chain:
        """The agent's chain, walked through this router."""
        return Chain(self, agent, refs, private=private, files=files)

    def model(self, ref: str) -> Model | str:
        """The model behind `ref`, made once; or why it cannot be used (no key, not installed).

        It is told the largest context any agent of the configuration asks of it, so a model
        loaded in this process is loaded once, not once per agent's size."""
        if ref not in self._models:
            try:
                model = infer_model(ref, self.config.endpoints)
            except (MissingCredentialsError, MissingDependencyError, ConfigError) as error:
                return str(error)
            asked = [
                model.context_asked(agent.settings())
                for agent in self.config.agents.values()
                if ref in agent.chain
            ]
            largest = max((size for size in asked if size), default=0)
            if largest:
                model.expect_context(largest)
            self._models[ref] = model
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
            # Others spent while this turn waited to retry: the chain walk decides what follows.
            return Failure(FailureKind.MOVE_ON, "budget", BUDGET_REASON)
        started = time.perf_counter()
        slot = self._limit(model.provider) if model.holds_slot else contextlib.nullcontext()
        try:
            async with slot:
                sent = mask_request(request)  # our keys reach no model, local ones neither
                response = await model.request(sent, self._on_token(agent, model.ref))
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
        return response, reservation

    async def take_turn(
        self, agent: AgentConfig, model: Model, request: ModelRequest, output_type: type[T] | None
    ) -> Turn[T]:
        """One model's turn: attempts with retries and backoff, and one repair round."""
        model = self._through_batch(agent, model)
        repair_left = 1
        retry = failovers = 0
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
                spent = retry - failovers >= agent.retries  # a pool's failover is not a retry
                failure = self._judge(model, request, result, spent)
                if failure is not None:
                    return Turn(failure=failure)
                retry += 1
                failovers += result.failover
                delay = retry_delay(retry, result.retry_after, self._rng)
                if delay is None:
                    self.cooldowns.cool(model.ref)
                    return Turn(failure=result)
                await self._sleep(delay)
                continue
            response, reservation = result
            if response.truncation is not None:
                failure = self._truncated(agent, model, response, reservation, retry)
                if reservation is not None and self.replay is not None:
                    # Paid for like any answer: a resumed run replays it (and discards it again).
                    self.replay.put(agent.name, model.ref, request, response)
                return Turn(failure=failure)
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
            if reservation is not None and self.replay is not None:
                # Only once its ledger row is written: a replayed answer was always recorded.
                self.replay.put(agent.name, model.ref, request, response)
            if error is None:
                return Turn(Routed(response, model.ref, output))
            if repair_left == 0:
                return Turn(failure=Failure(FailureKind.MOVE_ON, "invalid_output", str(error)))
            repair_left -= 1
            request = repair_request(request, response.text, error)

    def _through_batch(self, agent: AgentConfig, model: Model) -> Model:
        """With `--cloud-batch`, a cloud model of an agent whose calls can wait is asked through
        its vendor's Batch API, when the price table knows the batch rate; else as it is."""
        if self.batch is None or model.tier != "cloud":
            return model
        if agent.name not in self.config.cloud_batch.agents:
            return model
        try:
            rate = self.pricer.price(model.ref).batch
        except PriceUnknownError:
            return model  # refused as any unpriced cloud model is, in the chain walk
        if rate is None:
            return model  # priced at full rate, it would not be what --cloud-batch promises
        key = (agent.name, model.ref)
        if key not in self._batched:
            api = model.batch_api()
            if api is None:
                return model
            self._batched[key] = BatchedModel(model, api, self.batch, agent.name, self._notice)
        return self._batched[key]

    def _notice(self, text: str) -> None:
        self.events.emit(RunNotice(run_id=self.recorder.run_id, text=text))

    def _truncated(
        self,
        agent: AgentConfig,
        model: Model,
        response: ModelResponse,
        reservation: Reservation | None,
        retry: int,
    ) -> Failure:
        """The server answered a cut prompt: the call is recorded (its tokens were spent), the
        answer discarded, and only a model with a larger window may be tried."""
        cut = response.truncation
        assert cut is not None
        message = (
            f"{model.ref} read only {cut.read_tokens:,} of at least {cut.sent_tokens:,} prompt "
            f"tokens (it runs a {cut.window:,}-token window); its answer was discarded"
        )
        self.recorder.answered(
            agent.name,
            model,
            response,
            outcome="truncated",
            reservation=reservation,
            attempt=retry + 1,
            detail=message,
        )
        self.fit.learn(model.ref, cut.window)
        self.events.emit(
            PromptTruncated(
                run_id=self.recorder.run_id,
                agent=agent.name,
                model=model.ref,
                read_tokens=cut.read_tokens,
                sent_tokens=cut.sent_tokens,
                window=cut.window,
            )
        )
        return Failure(FailureKind.CONTEXT_OVERFLOW, "truncated", message)

    def _judge(
        self, model: Model, request: ModelRequest, failure: Failure, retries_spent: bool
    ) -> Failure | None:
        """The failure that ends this model's turn, or None to retry it."""
        if failure.error_class == "budget":
            return failure
        if failure.failover:
            return None  # one host of a pool failed; another takes the request now
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
