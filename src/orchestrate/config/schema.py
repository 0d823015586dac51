"""The shape of `agents/*.yaml` and `agents/providers.yaml`. Loading and error messages live in `loader`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrate.config.origins import Origins
from orchestrate.models.base import ModelSettings, Tier

BackendKind = Literal["anthropic", "openai", "ollama", "llamacpp", "scripted"]
Privacy = Literal["cloud_ok", "local_only", "redact"]
EditFormat = Literal["whole", "search_replace"]
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
"""Every effort value a vendor documents; each model accepts the subset its capabilities list."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelInfo(_Strict):
    """What we know of one model served by an endpoint."""

    context_window: int | None = None
    """Tokens the model accepts, prompt plus output; used to pick a larger model after an overflow."""
    max_output_tokens: int | None = Field(default=None, ge=1)
    """Most tokens this model is asked to write, whatever the agent allows: a small local model
    that rambles to an agent's 8192-token limit can take many minutes per call."""


class HostConfig(_Strict):
    """One server of a pooled endpoint (`hosts:`): several Ollama boxes or vLLM replicas that
    serve the same models."""

    url: str
    """The server's URL, as `base_url` would name it."""
    concurrency: int = Field(default=1, ge=1)
    """Most requests in flight to this server at once."""


POOLED_KINDS: tuple[BackendKind, ...] = ("ollama", "openai")
"""Backends whose servers can be pooled (the in-process llama.cpp model has no host)."""


class EndpointConfig(_Strict):
    """One place models are served from, declared once in `providers.yaml`."""

    kind: BackendKind
    """Wire protocol: which SDK talks to it."""
    tier: Tier
    """`cloud` if requests leave the machine; privacy and budgets depend on it."""
    base_url: str | None = None
    """Endpoint URL; None lets the SDK read its own variable (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, OLLAMA_HOST)."""
    api_key_env: str | None = None
    """Name of the environment variable holding the key (never the key itself)."""
    concurrency: int = Field(default=4, ge=1)
    """Most requests in flight to this endpoint at once; with `hosts`, each host's own limit
    applies instead (and this is their sum)."""
    hosts: tuple[HostConfig, ...] = ()
    """Several servers behind this one endpoint, instead of `base_url`: each request goes to the
    one with the fewest in flight for its limit (`models.pool`)."""
    host_cooldown_s: float = Field(default=10.0, gt=0)
    """How long a host that failed (refused, 5xx, timed out) is left out before one request
    probes it again; doubled at each failure in a row."""
    api: Literal["responses", "chat"] | None = None
    """`kind: openai` only: which OpenAI API to call. None: the Responses API on a cloud endpoint
    (OpenAI itself), chat completions on a local one (vLLM, llama-server, LM Studio)."""
    models: dict[str, ModelInfo] = Field(default_factory=dict)
    """Optional facts per model name (context window)."""

    @model_validator(mode="after")
    def _pool(self) -> EndpointConfig:
        if not self.hosts:
            return self
        if self.base_url is not None:
            raise ValueError("give either base_url or hosts, not both")
        if self.kind not in POOLED_KINDS:
            raise ValueError(f"hosts: a {self.kind} endpoint has no servers to pool")
        if len({host.url for host in self.hosts}) != len(self.hosts):
            raise ValueError("hosts: each url once")
        total = sum(host.concurrency for host in self.hosts)
        object.__setattr__(self, "concurrency", total)  # frozen: set once, while validating
        return self


class Rates(_Strict):
    """USD per million tokens of each kind."""

    input: float = Field(ge=0)
    """Uncached input tokens."""
    output: float = Field(ge=0)
    """Output tokens (thinking included)."""
    cache_read: float | None = Field(default=None, ge=0)
    """Cached input read; None means priced as input."""
    cache_write: float | None = Field(default=None, ge=0)
    """Cache writes (Anthropic's 5-minute writes, OpenAI's 30-minute ones); None means priced as
    input."""


class PriceTier(Rates):
    """Rates for a call whose own prompt is longer than `above_prompt_tokens`."""

    above_prompt_tokens: int = Field(ge=0)
    """Prompt tokens (uncached, cache reads and cache writes together) above which these rates
    apply to the whole call, output included."""


class PriceEntry(Rates):
    """USD per million tokens for one cloud model: base rates, longer-prompt tiers, batch."""

    context_window: int | None = None
    """Tokens the model accepts."""
    tiers: tuple[PriceTier, ...] = ()
    """Rates by prompt length; the highest tier whose threshold the call's prompt passes wins."""
    batch: float | None = Field(default=None, gt=0, le=1)
    """Multiplier of every rate for calls sent through the provider's Batch API (0.5 = half)."""

    def rates_for(self, prompt_tokens: int) -> Rates:
        """The rates a call with this many prompt tokens pays."""
        passed = [tier for tier in self.tiers if prompt_tokens > tier.above_prompt_tokens]
        if not passed:
            return self
        return max(passed, key=lambda tier: tier.above_prompt_tokens)


class BudgetConfig(_Strict):
    """Caps on cloud spending; local models are never capped. Unset caps do not apply."""

    per_run_usd: float | None = Field(default=None, ge=0)
    """Most USD one run may spend on cloud models."""
    per_day_usd: float | None = Field(default=None, ge=0)
    """Most USD spent on cloud models per UTC day, counted from the ledger across runs."""
    per_month_usd: float | None = Field(default=None, ge=0)
    """Most USD spent on cloud models per UTC month, counted from the ledger across runs."""
    on_cap: Literal["degrade", "stop"] = "degrade"
    """At a cap: `degrade` leaves cloud models out of the chains (local ones carry on); `stop`
    ends the run with an error."""


DEFAULT_PRIVATE_PATHS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "secrets/**",
    "*.pem",
    "*.key",
    "id_rsa*",
    # Where tools keep their logins: curl/ftp/git (`.netrc`, `_netrc` on Windows), git's
    # credential store, npm, PyPI (twine), and Google/OAuth client secrets.
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "credentials.json",
)
"""Globs matched against each trailing part of a path, so `secrets/**` also covers `a/secrets/b`."""

DEFAULT_ENTROPY_LIMIT = 4.5
"""detect-secrets' own default for base64-looking strings."""


class PrivacySettings(_Strict):
    """What counts as private. On by default: turning it off lets secrets reach cloud models."""

    enabled: bool = True
    """Scan requests at all."""
    private_paths: tuple[str, ...] = DEFAULT_PRIVATE_PATHS
    """Globs of files whose requests stay local whatever they hold."""
    personal_data: bool = True
    """Count emails, phone, card and national ID numbers as private, not only secrets."""
    entropy_limit: float = Field(default=DEFAULT_ENTROPY_LIMIT, ge=0, le=8)
    """Bits a character above which a quoted random-looking string counts as a secret."""


SandboxMode = Literal["auto", "bubblewrap", "none"]


class ChecksSettings(_Strict):
    """How check commands run, and which commands a model proposes may run without asking."""

    sandbox: SandboxMode = "auto"
    """`auto`: bubblewrap where `bwrap` is installed, else unsandboxed (said at the start of a
    run); `bubblewrap`: refuse to run checks without it; `none`: never sandbox."""
    network: bool = False
    """Whether checks may reach the network (enforced only inside the sandbox)."""
    env: tuple[str, ...] = ()
    """Names of variables passed to checks besides PATH and the locale (never our API keys)."""
    allow: tuple[str, ...] = ()
    """Commands models may propose that run without asking: a proposed command runs when it is
    one simple command (no `;`, `|`, `&`, `$`, backticks or redirections) whose words begin with
    an entry's words (`python -m pytest` allows `python -m pytest tests/test_x.py -q`)."""


class CloudBatchSettings(_Strict):
    """`--cloud-batch`: which agents' cloud calls go through the vendors' Batch APIs (half price,
    answered within 24 hours), how long requests gather into one batch, how often it is polled."""

    agents: tuple[str, ...] = ("planner", "reviewer")
    """Agents whose calls can wait: nothing a person watches waits on them in a batch run."""
    gather_s: float = Field(default=5.0, ge=0)
    """A batch is submitted once no request has joined it for this long."""
    first_poll_s: float = Field(default=30.0, gt=0)
    """The first look at a batch after submitting it; each later wait is twice the last."""
    max_poll_s: float = Field(default=600.0, gt=0)
    """The longest wait between two looks."""


class ProvidersFile(_Strict):
    """`providers.yaml`: endpoints by name, price overrides, and the savings reference model."""

    endpoints: dict[str, EndpointConfig] = Field(default_factory=dict)
    """Extra or overriding endpoints, by the name used before the colon in model references."""
    prices: dict[str, PriceEntry] = Field(default_factory=dict)
    """Price overrides by `provider:model`, on top of the packaged table."""
    reference_model: str = "anthropic:claude-sonnet-5-5"
    """Cloud model whose prices value local tokens in the all-cloud counterfactual."""
    local_cost_per_mtok: float = Field(default=0.0, ge=0)
    """Optional electricity/amortisation cost of local tokens, USD per million."""
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    """Cloud spending caps; later files override the caps they set."""
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    """What counts as private; later files override the fields they set."""
    checks: ChecksSettings = Field(default_factory=ChecksSettings)
    """How checks run; later files override the fields they set."""
    cloud_batch: CloudBatchSettings = Field(default_factory=CloudBatchSettings)
    """How `--cloud-batch` batches; later files override the fields they set."""


class AgentConfig(_Strict):
    """One agent: which model it uses, what it falls back to, and how it is called."""

    name: str
    """Agent name; defaults to the file's stem."""
    model: str
    """Primary model, `provider:model`."""
    fallbacks: list[str] = Field(default_factory=list)
    """Models to try in order when the primary fails."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature."""
    max_tokens: int = Field(default=4096, ge=1)
    """Most output tokens per call."""
    timeout: float = Field(default=120.0, gt=0)
    """Seconds per call."""
    retries: int = Field(default=2, ge=0, le=5)
    """Retries of the same model on transient errors before moving on."""
    num_ctx: int = Field(default=8192, ge=512)
    """Context window asked of local models."""
    keep_alive: str | None = "10m"
    """How long Ollama keeps the model loaded."""
    stop: list[str] = Field(default_factory=list)
    """Stop sequences."""
    system_prompt: str
    """The system prompt (inline, or read from `system_prompt_file`)."""
    privacy: Privacy = "cloud_ok"
    """`local_only` never sends this agent's requests to the cloud; `redact` masks private data instead."""
    edit_format: EditFormat = "whole"
    """How a worker writes edits: whole files or SEARCH/REPLACE blocks."""
    effort: Effort | None = None
    """Reasoning effort for models that take one (Claude 5.x, OpenAI reasoning models); None
    leaves each model's default. Dropped, with a warning at config check, where not accepted."""
    think: bool = False
    """Let a local model that can think do so (Ollama `think`). Off by default: thinking models
    return empty answers to constrained prompts with it on."""

    @property
    def chain(self) -> list[str]:
        """Primary model then fallbacks, in order, without repeats."""
        return list(dict.fromkeys([self.model, *self.fallbacks]))

    def settings(self) -> ModelSettings:
        """Per-call parameters for this agent."""
        return ModelSettings(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout=self.timeout,
            num_ctx=self.num_ctx,
            stop=tuple(self.stop),
            keep_alive=self.keep_alive,
            effort=self.effort,
            think=self.think,
        )


class OrchestrateConfig(_Strict):
    """Everything resolved: agents, endpoints (built-ins plus the providers file) and prices."""

    agents: dict[str, AgentConfig]
    """Agents by name."""
    endpoints: dict[str, EndpointConfig]
    """Endpoints by name."""
    prices: dict[str, PriceEntry]
    """Cloud prices by `provider:model` (packaged table plus overrides)."""
    reference_model: str
    """Model that values local tokens in the savings counterfactual."""
    local_cost_per_mtok: float = 0.0
    """USD per million local tokens."""
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    """Cloud spending caps (the command line's `--budget` adds one more)."""
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    """What the privacy guard treats as private."""
    checks: ChecksSettings = Field(default_factory=ChecksSettings)
    """How check commands run and which proposed ones need no asking."""
    cloud_batch: CloudBatchSettings = Field(default_factory=CloudBatchSettings)
    """How `--cloud-batch` sends the calls that can wait through the vendors' Batch APIs."""
    sources: dict[str, str] = Field(default_factory=dict)
    """Which file each agent came from, for messages."""
    origins: Origins = Field(default_factory=Origins)
    """Which layer each agent and endpoint came from (`config check`)."""
    notes: tuple[str, ...] = ()
    """Warnings found while loading (settings a model drops, models retiring soon, a repository's
    settings ignored until it is trusted), one line each; `config check`, `doctor` and the start
    of every run print them."""
    honoured: str = ""
    """`config: <file>; <file> (not its ...)`: the agents folders read, said at a run's start."""
    ignored: tuple[str, ...] = ()
    """What the repository's own `agents/` set but may not until it is trusted (`base_url of
    anthropic`, `privacy:`, ...): left out of everything above."""


BUILTIN_ENDPOINTS: dict[str, EndpointConfig] = {
    "anthropic": EndpointConfig(
        kind="anthropic", tier="cloud", api_key_env="ANTHROPIC_API_KEY", concurrency=8
    ),
    "openai": EndpointConfig(
        kind="openai", tier="cloud", api_key_env="OPENAI_API_KEY", concurrency=8
    ),
    "ollama": EndpointConfig(kind="ollama", tier="local", concurrency=2),
    "llamacpp": EndpointConfig(kind="llamacpp", tier="local", concurrency=1),
    "scripted": EndpointConfig(kind="scripted", tier="local", concurrency=64),
}
"""Endpoints that exist without a providers file; the file may override them."""
