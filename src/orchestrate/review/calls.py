"""One model call of a review step: privacy, the cloud-token allowance, and what a failure means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from orchestrate.config.schema import AgentConfig
from orchestrate.exceptions import NoModelAvailableError, OutputValidationError, PrivacyBlockedError
from orchestrate.models.base import Message, ModelRequest
from orchestrate.models.registry import split_ref
from orchestrate.review.limits import CloudTokens, estimate_tokens
from orchestrate.routing.router import Router

T = TypeVar("T", bound=BaseModel)

CALL_FAILURES = (NoModelAvailableError, PrivacyBlockedError, OutputValidationError)
"""What a step's call may raise that the review survives (the part is listed as not reviewed)."""


@dataclass(frozen=True)
class StepCall:
    """How one step's agent is called in this review."""

    router: Router
    agent: AgentConfig
    private: bool
    """True for local-only reviews (fork PRs without secrets): no cloud model is ever used."""
    cloud: CloudTokens
    """The review's shared cloud-token allowance."""

    def reaches_cloud(self) -> bool:
        """Whether this step may use a cloud model at all."""
        if self.private or self.agent.privacy == "local_only":
            return False
        return any(self.is_cloud(ref) for ref in self.agent.chain)

    def cloud_tokens(self, content: str) -> int:
        """Worst-case cloud tokens of a call with this user message: prompt plus full output."""
        return estimate_tokens(self.agent.system_prompt + content) + self.agent.max_tokens

    async def ask(self, content: str, output_type: type[T]) -> tuple[T, str]:
        """The parsed answer and the model that gave it.

        Cloud models are used only if the call's worst case fits the allowance left (it is held
        while the call runs); otherwise the chain's local models answer. Cloud tokens actually
        used are charged afterwards.
        """
        worst = self.cloud_tokens(content)
        held = self.reaches_cloud() and self.cloud.reserve(worst)
        request = ModelRequest(
            system=self.agent.system_prompt,
            messages=(Message(role="user", content=content),),
            settings=self.agent.settings(),
        )
        try:
            routed = await self.router.complete(self.agent, request, output_type, private=not held)
        except NoModelAvailableError as error:
            if held or not self.reaches_cloud():
                raise
            raise NoModelAvailableError(
                "the review's cloud allowance (max-cloud-tokens) is used up and no local model "
                "answered; raise max-cloud-tokens or give the review a local model (ollama-url)"
            ) from error
        finally:
            if held:
                self.cloud.release(worst)
        if self.is_cloud(routed.model_ref):
            usage = routed.response.usage
            self.cloud.charge(usage.prompt_tokens + usage.output_tokens)
        if routed.output is None:  # the router parses whenever an output type is given
            raise OutputValidationError(f"{routed.model_ref} returned no answer; run again")
        return routed.output, routed.model_ref

    def is_cloud(self, ref: str) -> bool:
        """Whether model `ref` is served by a cloud endpoint."""
        return self._tier(ref) == "cloud"

    def _tier(self, ref: str) -> str:
        endpoint = self.router.config.endpoints.get(split_ref(ref)[0])
        return endpoint.tier if endpoint is not None else "cloud"
