"""The in-process llama.cpp backend.

Tests marked `real_model` run the packaged gemma3-270m (deselected by default):
    uv run pytest -m real_model tests/models/test_llamacpp_backend.py
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from orchestrate.config.schema import BUILTIN_ENDPOINTS, AgentConfig, OrchestrateConfig
from orchestrate.engine.edits import parse_edits
from orchestrate.exceptions import ConfigError, ContextOverflowError, MissingDependencyError
from orchestrate.ledger.prices import packaged_prices
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.registry import infer_model
from orchestrate.routing.failures import FailureKind
from orchestrate.routing.router import Router


def _ask(text: str, system: str = "", **settings: Any) -> ModelRequest:
    return ModelRequest(
        system=system,
        messages=(Message(role="user", content=text),),
        settings=ModelSettings(**settings),
    )


def test_module_import_fails_with_import_error_without_llama_cpp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # None in sys.modules blocks the import
    monkeypatch.delitem(sys.modules, "orchestrate.models.llamacpp", raising=False)

    with pytest.raises(ImportError):
        import orchestrate.models.llamacpp  # noqa: F401
    with pytest.raises(MissingDependencyError, match=r"orchestrate\[local\]"):
        infer_model("llamacpp:gemma3-270m", BUILTIN_ENDPOINTS)


@pytest.fixture
def llamacpp() -> ModuleType:
    """The backend module; tests using it are skipped without the `local` extra."""
    module: ModuleType = pytest.importorskip("orchestrate.models.llamacpp")
    return module


def test_missing_gguf_path_is_a_config_error(tmp_path: Path, llamacpp: ModuleType) -> None:
    missing = tmp_path / "nope.gguf"

    with pytest.raises(ConfigError, match="no such file"):
        infer_model(f"llamacpp:{missing}", BUILTIN_ENDPOINTS)


def test_file_that_is_not_gguf_is_a_config_error(tmp_path: Path, llamacpp: ModuleType) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf")

    with pytest.raises(ConfigError, match="not a GGUF file"):
        infer_model(f"llamacpp:{fake}", BUILTIN_ENDPOINTS)


def test_gguf_path_builds_a_local_model_without_loading_it(
    tmp_path: Path, llamacpp: ModuleType
) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 16)

    model = infer_model(f"llamacpp:{gguf}", BUILTIN_ENDPOINTS)

    assert isinstance(model, llamacpp.LlamaCppModel)
    assert model.path == gguf.resolve()
    assert model.tier == "local"
    assert model.ref == f"llamacpp:{gguf}"


def test_classify_overflow_and_timeout_only(tmp_path: Path, llamacpp: ModuleType) -> None:
    model = llamacpp.LlamaCppModel("llamacpp", "x", tmp_path / "x.gguf")
    llama_overflow = ValueError("Requested tokens (900) exceed context window of 512")

    ours = model.classify(ContextOverflowError("prompt too long"))
    theirs = model.classify(llama_overflow)
    timeout = model.classify(TimeoutError("slow"))
    assert ours is not None
    assert ours.kind is FailureKind.CONTEXT_OVERFLOW
    assert theirs is not None
    assert theirs.kind is FailureKind.CONTEXT_OVERFLOW
    assert timeout is not None
    assert timeout.kind is FailureKind.RETRY
    assert model.classify(ValueError("Failed to load model from file")) is None


def test_cache_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llamacpp: ModuleType
) -> None:
    monkeypatch.setenv("ORCHESTRATE_CACHE_DIR", str(tmp_path / "models"))
    assert llamacpp.cache_dir() == tmp_path / "models"

    monkeypatch.delenv("ORCHESTRATE_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert llamacpp.cache_dir() == tmp_path / ".cache" / "orchestrate" / "models"


# --- the real packaged model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """gemma3-270m built once per module, assembled into a throwaway cache directory."""
    pytest.importorskip("llama_cpp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORCHESTRATE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield infer_model("llamacpp:gemma3-270m", BUILTIN_ENDPOINTS)


def _reference_llama(path: Path, n_ctx: int) -> Any:
    """A separate Llama, to check our numbers against llama-cpp-python's own."""
    from llama_cpp import Llama

    return Llama(model_path=str(path), n_ctx=n_ctx, chat_format="gemma", verbose=False)


@pytest.mark.real_model
async def test_real_completion_reports_the_true_token_counts(gemma: Any) -> None:
    request = _ask(
        "List the numbers from one to ten in words.",
        system="You are terse.",
        max_tokens=48,
        temperature=0.0,
        stop=("numbers", "seven"),
        num_ctx=1024,
    )

    response = await gemma.request(request)

    reference = _reference_llama(gemma.path, 1024)
    # A pretrained model (the model facts): the request is sent as plain text, no chat turns.
    prompt = "You are terse.\n\nList the numbers from one to ten in words."
    expected_prompt = reference.tokenize(prompt.encode(), add_bos=True, special=False)
    plain = reference.create_completion(
        prompt=expected_prompt,
        max_tokens=48,
        temperature=0.0,
        stop=["numbers", "seven"],
    )
    assert response.text.strip()
    assert "numbers" not in response.text
    assert "seven" not in response.text
    assert response.text == plain["choices"][0]["text"]
    assert response.usage.input_tokens == len(expected_prompt)
    assert response.usage.input_tokens == plain["usage"]["prompt_tokens"]
    assert 0 < response.usage.output_tokens < 48  # a stop sequence ended it early
    assert response.usage.output_tokens == plain["usage"]["completion_tokens"]
    assert response.model == "gemma3-270m"


@pytest.mark.real_model
async def test_real_streaming_joins_to_the_text(gemma: Any) -> None:
    pieces: list[str] = []

    response = await gemma.request(
        _ask("Write one sentence about the sea.", max_tokens=32, num_ctx=1024),
        on_token=pieces.append,
    )

    assert len(pieces) > 1
    assert "".join(pieces) == response.text


@pytest.mark.real_model
async def test_real_structured_output_follows_the_schema(gemma: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
    }
    request = ModelRequest(
        messages=(Message(role="user", content="What is 2 + 2? Answer in JSON."),),
        output_schema=schema,
        settings=ModelSettings(max_tokens=64, temperature=0.0, num_ctx=1024),
    )

    response = await gemma.request(request)

    assert isinstance(json.loads(response.text)["answer"], int)


@pytest.mark.real_model
async def test_real_whole_file_reply_ends_when_its_file_block_ends(gemma: Any) -> None:
    prompt = (
        "Edit greet.py so greet returns 'Hello, ' + name + '!'. Reply with the file's path on "
        "its own line, then a fenced code block with the complete new file.\n\ngreet.py\n"
        "```python\ndef greet(name):\n    return 'Hello ' + name\n```\n"
    )
    request = ModelRequest(
        messages=(Message(role="user", content=prompt),),
        file_paths=("greet.py",),
        settings=ModelSettings(max_tokens=400, temperature=0.0, num_ctx=2048),
    )

    response = await gemma.request(request)

    # The grammar ends the reply with its block: one fence opened, one closed, nothing after.
    text = response.text.rstrip("\n")
    assert text.endswith("```")
    assert text.count("```") == 2
    assert response.usage.output_tokens < 400
    parsed = parse_edits(response.text, "whole", ["greet.py"])
    assert parsed.well_formed, parsed.error


def test_the_file_block_grammar_is_valid_gbnf(llamacpp: ModuleType) -> None:
    from llama_cpp.llama_grammar import LlamaGrammar

    from orchestrate.models.llamacpp_grammar import file_blocks_grammar

    for paths in (["a.py"], ["a.py", "b/c.py", 'odd "name".py']):
        assert LlamaGrammar.from_string(file_blocks_grammar(paths), verbose=False) is not None
    rules = file_blocks_grammar(["a.py", 'odd "name".py']).splitlines()
    assert rules[0] == 'root ::= block "\\n"* block'
    # The path line is one of the files, never free text (gemma3-270m wrote a prompt line there).
    assert rules[1] == 'intro ::= "a.py\\n" | "odd \\"name\\".py\\n"'


def test_a_pretrained_model_reads_its_request_as_plain_text(llamacpp: ModuleType) -> None:
    from llama_cpp import Llama

    from orchestrate.models.llamacpp_document import completion_options, document, document_tokens

    request = _ask("<start_of_turn>user\nhi", system="Be brief.")
    assert document(request) == "Be brief.\n\n<start_of_turn>user\nhi"
    from orchestrate.models.llamacpp import LlamaCppModel

    model = infer_model("llamacpp:gemma3-270m", BUILTIN_ENDPOINTS)
    assert isinstance(model, LlamaCppModel)
    assert model.instruct is False  # the model facts: a pretrained model, no chat turns
    vocab = Llama(model_path=str(model.path), vocab_only=True, verbose=False)
    tokens = document_tokens(vocab, request)
    assert asyncio.run(model.count_tokens(request)) == len(tokens)
    # BOS first; the turn marker in the text stays characters, never Gemma's control token.
    assert tokens[0] == vocab.token_bos()
    marker = vocab.tokenize(b"<start_of_turn>", add_bos=False, special=True)
    assert len(marker) == 1 and marker[0] not in tokens
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    options = completion_options({"max_tokens": 5, "response_format": {"schema": schema}})
    assert "response_format" not in options and options["grammar"] is not None


@pytest.mark.real_model
async def test_real_overflow_is_raised_before_sending(gemma: Any) -> None:
    tokens: list[str] = []
    long_prompt = _ask("word " * 600, num_ctx=512, max_tokens=16)
    room_for_prompt_not_answer = _ask("hello", num_ctx=512, max_tokens=511)

    with pytest.raises(ContextOverflowError, match="exceeds the context window of 512") as raised:
        await gemma.request(long_prompt, on_token=tokens.append)
    with pytest.raises(ContextOverflowError, match="max_tokens 511"):
        await gemma.request(room_for_prompt_not_answer)

    failure = gemma.classify(raised.value)
    assert failure is not None
    assert failure.kind is FailureKind.CONTEXT_OVERFLOW
    assert tokens == []


@pytest.mark.real_model
async def test_real_timeout_stops_generation_and_frees_the_model(gemma: Any) -> None:
    await gemma.request(_ask("hi", max_tokens=4, num_ctx=1024))  # load outside the timed call
    pieces: list[str] = []

    with pytest.raises(TimeoutError, match="did not answer within"):
        await gemma.request(
            _ask("Tell a long story.", max_tokens=400, num_ctx=1024, timeout=0.3),
            on_token=pieces.append,
        )
    seen = len(pieces)
    after = await gemma.request(_ask("Say yes.", max_tokens=8, num_ctx=1024))

    await asyncio.sleep(0.1)
    assert len(pieces) == seen  # the abandoned call streams nothing more
    assert after.usage.output_tokens > 0


@pytest.mark.real_model
def test_real_packaged_gguf_is_assembled_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llamacpp: ModuleType
) -> None:
    monkeypatch.setenv("ORCHESTRATE_CACHE_DIR", str(tmp_path))

    from orchestrate.models.llamacpp import LlamaCppModel

    first = infer_model("llamacpp:gemma3-270m", BUILTIN_ENDPOINTS)
    assert isinstance(first, LlamaCppModel)
    stamp = first.path.stat()
    second = infer_model("llamacpp:gemma3-270m", BUILTIN_ENDPOINTS)
    assert isinstance(second, LlamaCppModel)

    assert first.path == second.path
    assert first.path.parent == tmp_path
    assert first.path.read_bytes()[:4] == b"GGUF"
    assert second.path.stat().st_ino == stamp.st_ino
    assert second.path.stat().st_mtime_ns == stamp.st_mtime_ns
    assert [p.name for p in tmp_path.iterdir()] == [first.path.name]  # no partial file left


@pytest.mark.real_model
async def test_real_token_count_is_the_completions_own_and_decides_the_fit(gemma: Any) -> None:
    from orchestrate.config.schema import AgentConfig, OrchestrateConfig
    from orchestrate.ledger.prices import packaged_prices
    from orchestrate.ledger.pricing import Pricer
    from orchestrate.routing.fit import PromptFit, estimate_request
    from orchestrate.routing.model_facts import ModelFacts

    request = _ask("word " * 1300, num_ctx=2048, max_tokens=8)
    # Three characters a token would refuse it; gemma's own tokenizer says it fits.
    assert estimate_request(request) + 8 > 2048
    agent = AgentConfig(name="coder", model="llamacpp:gemma3-270m", system_prompt="", num_ctx=2048)
    config = OrchestrateConfig(
        agents={"coder": agent},
        endpoints=dict(BUILTIN_ENDPOINTS),
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-4-6",
    )
    fit = await PromptFit(ModelFacts(config, Pricer.from_config(config))).measure(
        agent, gemma, request
    )
    assert fit.counted and fit.fits

    response = await gemma.request(request)
    assert fit.prompt_tokens == response.usage.input_tokens


@pytest.mark.real_model
async def test_one_instance_per_gguf_at_the_largest_context_any_agent_asks(
    gemma: Any, tmp_path: Path, llamacpp: ModuleType
) -> None:
    # A second name for the same file: a path no other test has loaded yet.
    link = tmp_path / "gemma.gguf"
    os.link(gemma.path, link)
    ref = f"llamacpp:{link}"
    small, large = (
        AgentConfig(name=name, model=ref, num_ctx=size, max_tokens=4, system_prompt="Be brief.")
        for name, size in (("small", 2048), ("large", 4096))
    )
    config = OrchestrateConfig(
        agents={"small": small, "large": large},
        endpoints=dict(BUILTIN_ENDPOINTS),
        prices=packaged_prices().prices,
        reference_model="anthropic:claude-sonnet-5-5",
    )
    router = Router(config, Ledger(None))
    try:
        for agent in (small, large):
            request = ModelRequest(
                messages=(Message(role="user", content="Say hi."),), settings=agent.settings()
            )
            await router.complete(agent, request)
            # Loaded once, by the first call, at the larger agent's context: never twice.
            assert llamacpp.loaded_contexts()[link] == 4096
    finally:
        await router.aclose()
