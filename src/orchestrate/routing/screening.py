"""Before routing: may this request reach a cloud model, as is, redacted, or not at all?"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrate.config.schema import AgentConfig
from orchestrate.exceptions import PrivacyBlockedError
from orchestrate.models.base import ModelRequest
from orchestrate.privacy.guard import PrivacyGuard
from orchestrate.routing.model_facts import ModelFacts
from orchestrate.routing.recorder import AttemptRecorder


class PrivacyScreen:
    """The guard's verdicts, applied to one chain and written to the ledger (never the text)."""

    def __init__(self, guard: PrivacyGuard, recorder: AttemptRecorder, facts: ModelFacts) -> None:
        self.guard = guard
        self.recorder = recorder
        self.facts = facts

    def check(
        self,
        agent: AgentConfig,
        request: ModelRequest,
        chain: Sequence[str],
        *,
        files: Sequence[str],
        private: bool,
    ) -> tuple[ModelRequest, str | None]:
        """What cloud models may be sent, and why the request is private (None if it is not)."""
        local = [ref for ref in chain if self.facts.tier(ref) == "local"]
        if private or agent.privacy == "local_only":
            return request, "private request"
        if len(local) == len(chain):
            return request, None  # nothing here leaves the machine: no need to look
        decision = self.guard.inspect(request, files)
        if not decision.private:
            return request, None
        if agent.privacy == "redact" and decision.redacted_request is not None:
            self.recorder.privacy(agent.name, decision, "redacted")
            return decision.redacted_request, None
        self.recorder.privacy(agent.name, decision, "local_only" if local else "blocked")
        return request, f"private request ({decision.summary()})"

    def for_cloud(
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
        decision = self.guard.inspect(request, files)
        if decision.private and decision.redacted_request is None:
            raise PrivacyBlockedError(
                f"agent '{agent.name}': private input that cannot be redacted ({decision.summary()})"
                "; set privacy: local_only for it"
            )
        return decision.redacted_request or request
