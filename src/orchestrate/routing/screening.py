"""Before a cloud model is tried: may this request reach it, as is, redacted, or not at all?

Screening reads every character of a prompt (about a millisecond per kilobyte), so it happens
only when it matters: when the chain walk is about to try a cloud model, never for a request a
local model answers first. It runs in a worker thread, off the event loop, and each distinct
request is screened once, however many chains ask at the same time (the scanner also keeps the
verdicts of recent texts, such as a system prompt every call repeats).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

from orchestrate.config.schema import AgentConfig
from orchestrate.exceptions import PrivacyBlockedError
from orchestrate.models.base import ModelRequest
from orchestrate.privacy.guard import PrivacyDecision, PrivacyGuard
from orchestrate.routing.model_facts import ModelFacts
from orchestrate.routing.recorder import AttemptRecorder

_RECENT = 64
"""Verdicts kept for requests screened lately (a worker's next round repeats its first turns)."""


def _key(request: ModelRequest, files: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in (request.system, *(m.content for m in request.messages), *files):
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


class PrivacyScreen:
    """The guard's verdicts, applied to one chain and written to the ledger (never the text)."""

    def __init__(self, guard: PrivacyGuard, recorder: AttemptRecorder, facts: ModelFacts) -> None:
        self.guard = guard
        self.recorder = recorder
        self.facts = facts
        self._verdicts: dict[str, asyncio.Future[PrivacyDecision]] = {}

    async def inspect(self, request: ModelRequest, files: Sequence[str]) -> PrivacyDecision:
        """The guard's decision, worked out once per distinct request, in a worker thread."""
        key = _key(request, files)
        pending = self._verdicts.get(key)
        if pending is None:
            task = asyncio.ensure_future(asyncio.to_thread(self.guard.inspect, request, files))
            self._verdicts[key] = pending = task
            while len(self._verdicts) > _RECENT:
                del self._verdicts[next(iter(self._verdicts))]
        # Shielded: one caller cancelled (a timeout) must not cancel the others' screening.
        return await asyncio.shield(pending)

    def for_walk(
        self,
        agent: AgentConfig,
        whole: ModelRequest,
        chain: Sequence[str],
        files: Sequence[str],
        private: bool,
    ) -> WalkScreen:
        """The screening of one request along one walk of `chain`."""
        return WalkScreen(self, agent, whole, chain=list(chain), files=list(files), private=private)

    async def check(
        self, agent: AgentConfig, request: ModelRequest, chain: Sequence[str], files: Sequence[str]
    ) -> tuple[ModelRequest, str | None]:
        """What cloud models may be sent, and why the request is private (None if it is not).
        Called when a cloud model of `chain` is about to be tried."""
        local = [ref for ref in chain if self.facts.tier(ref) == "local"]
        decision = await self.inspect(request, files)
        if not decision.private:
            return request, None
        if agent.privacy == "redact" and decision.redacted_request is not None:
            self.recorder.privacy(agent.name, decision, "redacted")
            return decision.redacted_request, None
        self.recorder.privacy(agent.name, decision, "local_only" if local else "blocked")
        return request, f"private request ({decision.summary()})"

    async def for_cloud(
        self,
        agent: AgentConfig,
        request: ModelRequest,
        whole: tuple[ModelRequest, ModelRequest],
        files: Sequence[str],
    ) -> ModelRequest:
        """What a cloud model is sent of `request`, a part of the screened `whole` request: as
        is, or redacted as `whole` was (`whole` is the request and what `check` let cloud have)."""
        full, for_cloud = whole
        if for_cloud is full:
            return request
        if (request.system, request.messages) == (full.system, full.messages):
            return request.model_copy(
                update={"system": for_cloud.system, "messages": for_cloud.messages}
            )
        # Shaped for this model (some content left out): redact what is left of it.
        decision = await self.inspect(request, files)
        if decision.private and decision.redacted_request is None:
            raise PrivacyBlockedError(
                f"agent '{agent.name}': private input that cannot be redacted ({decision.summary()})"
                "; set privacy: local_only for it"
            )
        return decision.redacted_request or request


class WalkScreen:
    """One request's privacy verdict in a chain walk, worked out only when a cloud model is
    next: a request a local model answers first is never read."""

    def __init__(
        self,
        screen: PrivacyScreen,
        agent: AgentConfig,
        whole: ModelRequest,
        *,
        chain: list[str],
        files: list[str],
        private: bool,
    ) -> None:
        self.screen, self.agent, self.whole = screen, agent, whole
        self.chain, self.files = chain, files
        self.at_once = "private request" if private or agent.privacy == "local_only" else None
        """Why the request is private without reading it (a private run, or an agent whose
        requests never leave the machine): its cloud models are passed over at once."""
        self._verdict: tuple[ModelRequest, str | None] | None = None

    async def sendable(self, ref: str) -> ModelRequest | str:
        """What model `ref` may be sent of the whole request (as is, or redacted), or why it may
        not (a private request, for a cloud model)."""
        if self.screen.facts.tier(ref) == "local":
            return self.whole
        if self._verdict is None:
            self._verdict = await self.screen.check(self.agent, self.whole, self.chain, self.files)
        sendable, private_reason = self._verdict
        return sendable if private_reason is None else private_reason
