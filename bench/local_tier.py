"""The local tier's overhead: gemma3-270m through our llamacpp provider (via the Router) against
llama-cpp-python called directly.

Same GGUF, same n_ctx, same thread counts, same prompt (plain text: the model facts say the
packaged gemma3-270m is a pretrained model, so the provider sends no chat turns), same max_tokens,
greedy decoding (temperature 0), both streamed; runs alternate between the two sides. Tokens are
counted the same way for both (the answer text re-tokenized), so tokens/second compare like for
like.
Loads the real model: about a minute on 2 cores, longer on the first run (the GGUF is assembled).

    uv run python bench/local_tier.py [--runs 5] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from _common import Table, median, show

from orchestrate.config.loader import load_config
from orchestrate.config.schema import AgentConfig
from orchestrate.ledger.store import Ledger
from orchestrate.models.base import Message, ModelRequest
from orchestrate.routing.router import Router

REF = "llamacpp:gemma3-270m"
N_CTX = 2048
SYSTEM = "You are a careful Python programmer. Answer with code only."
PROMPT = "Write a Python function is_prime(n) that returns whether n is a prime number."


def _agent(max_tokens: int) -> AgentConfig:
    return AgentConfig(
        name="coder",
        model=REF,
        system_prompt=SYSTEM,
        temperature=0.0,
        max_tokens=max_tokens,
        num_ctx=N_CTX,
        retries=0,
        timeout=600.0,
    )


def _direct_llama() -> Any:
    """A plain llama_cpp.Llama on the same file, with the settings our provider uses."""
    from llama_cpp import Llama

    from orchestrate.models import llamacpp

    threads = llamacpp._cpus()
    return Llama(
        model_path=str(llamacpp.packaged_gguf()),
        n_ctx=N_CTX,
        n_threads=max(1, threads - 1),
        n_threads_batch=threads,
        chat_format="gemma",
        verbose=False,
    )


def _direct(llama: Any, max_tokens: int) -> str:
    # The provider sends a pretrained model its system prompt, a blank line and the message as
    # plain text (BOS first, special tokens read as text); so do we.
    prompt = llama.tokenize(f"{SYSTEM}\n\n{PROMPT}".encode(), add_bos=True, special=False)
    chunks = cast(
        Iterator[dict[str, Any]],
        llama.create_completion(
            prompt=prompt, max_tokens=max_tokens, temperature=0.0, stream=True, stop=[]
        ),
    )
    return "".join(c["choices"][0]["text"] or "" for c in chunks)


def _tokens(llama: Any, text: str) -> int:
    return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))


async def measure(runs: int = 5, max_tokens: int = 128) -> Table:
    """Tokens/second of each side over `runs` alternating runs (after one warm-up each)."""
    llama = _direct_llama()
    agent = _agent(max_tokens)
    config = load_config(None)
    config = config.model_copy(update={"agents": {agent.name: agent}})
    request = ModelRequest(
        system=SYSTEM, messages=(Message(role="user", content=PROMPT),), settings=agent.settings()
    )
    rates: dict[str, list[float]] = {
        "llama-cpp-python direct": [],
        "router + llamacpp provider": [],
    }
    texts: dict[str, set[str]] = {name: set() for name in rates}
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        router = Router(config, ledger, run_id="bench")
        try:
            for index in range(runs + 1):
                order = list(rates) if index % 2 else list(reversed(rates))
                for side in order:
                    started = time.perf_counter()
                    if side == "llama-cpp-python direct":
                        text = await asyncio.to_thread(_direct, llama, max_tokens)
                    else:
                        text = (await router.complete(agent, request)).response.text
                    elapsed = time.perf_counter() - started
                    if index:  # the first round loads the models and warms caches
                        rates[side].append(_tokens(llama, text) / elapsed)
                        texts[side].add(text)
        finally:
            await router.aclose()
            ledger.close()
    return _table(rates, texts, runs, max_tokens)


def _table(
    rates: dict[str, list[float]], texts: dict[str, set[str]], runs: int, max_tokens: int
) -> Table:
    table = Table(
        f"Local tier: {REF}, n_ctx {N_CTX}, max_tokens {max_tokens}, greedy, median of {runs}",
        ["", "tok/s median", "tok/s min", "vs direct"],
    )
    direct = median(rates["llama-cpp-python direct"])
    for side, samples in rates.items():
        table.add(
            side,
            f"{median(samples):.1f}",
            f"{min(samples):.1f}",
            f"{median(samples) / direct:.2f}x",
        )
    same = len(texts["llama-cpp-python direct"] | texts["router + llamacpp provider"]) == 1
    table.notes.append(f"identical answers on both sides: {'yes' if same else 'NO'}")
    table.notes.append("tok/s = answer tokens (re-tokenized) / wall time including prompt reading")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    show(asyncio.run(measure(args.runs, args.max_tokens)))


if __name__ == "__main__":
    main()
