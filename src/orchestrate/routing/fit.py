"""Does a prompt fit a model? Measured once, before anything is sent, for every call.

The window a prompt (plus the output asked for) must fit is the smallest of three numbers:
the context the backend asks its server for (Ollama `num_ctx`, llama.cpp `n_ctx`), the window
declared for the model (providers.yaml `models:`, the price table), and the largest the server
says it runs the model with (Ollama cuts a larger `num_ctx` down to the model's trained length,
then silently drops the start of a longer prompt). A server that was caught cutting a prompt
teaches its real window for the rest of the run.

Prompt tokens are counted with the model's own tokenizer where one is at hand (llama.cpp's),
otherwise estimated from characters at a conservative ratio calibrated on code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from orchestrate.config.schema import AgentConfig
from orchestrate.models.base import Model, ModelRequest, ModelSettings
from orchestrate.routing.model_facts import ModelFacts

CHARS_PER_TOKEN = 3
"""Characters per token for estimates that must not fall short (does it fit? what may it cost?).
Measured with gemma3's tokenizer (llama.cpp): Python 3.2-3.6 characters a token over 151 files
(this package and 5,000-line modules from site-packages), Markdown prose 3.9, JSON 3.0. Tokenizers
with smaller vocabularies (Qwen, Llama) cut finer, so 3 leaves a margin."""
MOST_CHARS_PER_TOKEN = 4.5
"""Characters per token for estimates that must not overshoot (how many tokens were sent at the
very least?). The most any one file measured above was 4.3."""
TOKENS_PER_MESSAGE = 8
"""Chat-template tokens around each message (role markers, separators)."""
SMALLEST_WINDOW = 2048
"""No model a server runs has less context: a prompt within it is never cut, whatever it runs."""


def estimate_tokens(chars: int) -> int:
    """Tokens `chars` characters may take, rounded up: an estimate that does not fall short."""
    return math.ceil(chars / CHARS_PER_TOKEN)


def least_tokens(chars: int) -> int:
    """Tokens `chars` characters take at the very least."""
    return math.floor(chars / MOST_CHARS_PER_TOKEN)


def estimate_request(request: ModelRequest) -> int:
    """Prompt tokens of a whole request (system prompt and turns), not falling short."""
    turns = len(request.messages) + (1 if request.system else 0)
    return estimate_tokens(request.text_size()) + TOKENS_PER_MESSAGE * turns


@dataclass(frozen=True)
class Window:
    """The context a model will run a request with, and what set it."""

    tokens: int | None
    """None when nothing says (the server's own error will, if the prompt is too long)."""
    source: str = ""
    """e.g. `num_ctx 16384`, `declared`, `the server runs it at 32768`."""


@dataclass(frozen=True)
class Fit:
    """A request measured against one model."""

    prompt_tokens: int
    counted: bool
    """True when the model's tokenizer counted the prompt; False for an estimate."""
    output_tokens: int
    """The output asked for (max_tokens, already cut to the model's own cap)."""
    window: Window

    @property
    def fits(self) -> bool:
        """Prompt plus output fit the window (or no window is known)."""
        total = self.window.tokens
        return total is None or self.prompt_tokens + self.output_tokens <= total

    def reason(self) -> str:
        """Why it does not fit, in one line."""
        about = "" if self.counted else "~"
        return (
            f"its prompt ({about}{self.prompt_tokens:,} tokens) and {self.output_tokens:,} output "
            f"tokens do not fit the {self.window.tokens or 0:,}-token window ({self.window.source})"
        )


class PromptFit:
    """Windows per model, asked of servers once and remembered for the router's life (a run)."""

    def __init__(self, facts: ModelFacts) -> None:
        self.facts = facts
        self._served: dict[str, int | None] = {}
        self._learned: dict[str, int] = {}

    async def window(
        self, agent: AgentConfig, model: Model, settings: ModelSettings, prompt: int | None = None
    ) -> Window:
        """The smallest of what is asked, what is declared, and what the server runs. The
        server is asked (once) only for a prompt it could cut: one longer than any server's
        smallest window (or of unknown length)."""
        found: list[tuple[int, str]] = []
        asked = model.context_asked(settings)
        if asked:
            found.append((asked, f"num_ctx {asked}"))
        declared = self.facts.declared_window(model.ref)
        if declared:
            found.append((declared, "its declared context window"))
        served = await self._served_window(model, ask=prompt is None or prompt > SMALLEST_WINDOW)
        if served:
            found.append((served, f"the server runs it at {served}"))
        if not found:
            # A local endpoint that says nothing runs what the agent's num_ctx suggests.
            local = self.facts.window(agent, model.ref) if model.tier == "local" else None
            return Window(local, f"num_ctx {local}") if local else Window(None)
        tokens, source = min(found)
        return Window(tokens, source)

    async def measure(self, agent: AgentConfig, model: Model, request: ModelRequest) -> Fit:
        """The request against the model's window: estimated, or counted when the estimate
        does not fit and the model's tokenizer is at hand."""
        output = request.settings.max_tokens
        prompt = estimate_request(request)
        window = await self.window(agent, model, request.settings, prompt)
        estimate = Fit(prompt, False, output, window)
        if estimate.fits:
            return estimate
        counted = await model.count_tokens(request)
        if counted is None:
            return estimate
        return Fit(counted, True, output, window)

    def learn(self, ref: str, window: int) -> None:
        """The server was caught running `ref` at `window` tokens (it cut a prompt to fit)."""
        self._learned[ref] = min(window, self._learned.get(ref, window))

    def learned(self, ref: str) -> int | None:
        """The window `ref` was caught running at, if it was."""
        return self._learned.get(ref)

    async def _served_window(self, model: Model, *, ask: bool) -> int | None:
        if ask and model.ref not in self._served:
            self._served[model.ref] = await model.served_window()
        served = self._served.get(model.ref)
        learned = self._learned.get(model.ref)
        if served is None or learned is None:
            return served if learned is None else learned
        return min(served, learned)
