"""Memory: peak RSS of a default embedded run, beside the embedded model loaded once.

- default embedded run: `orchestrate run examples/hello/plan.md` in a fresh copy of the example,
  with no keys and no Ollama, so the workers fall back to the embedded `llamacpp:gemma3-270m`;
- one instance: a process that loads the packaged GGUF once, at the largest context the default
  agents ask of it, and answers one short prompt: what the default run should cost;
- two instances: the same GGUF loaded at that context and at the model's declared window, as
  the old cache (one instance per file and context) did when agents asked for both.

Each figure is the peak resident set of one child process (`wait4`'s `ru_maxrss`).

    uv run python bench/memory.py [--no-run]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Table, load_average, show

from orchestrate.config.loader import load_config
from orchestrate.testing.fake_server import free_port

REF = "llamacpp:gemma3-270m"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello"
_LOAD = """
import sys
from llama_cpp import Llama
from orchestrate.models.llamacpp import packaged_gguf
path = str(packaged_gguf())
for n_ctx in map(int, sys.argv[1:]):
    llama = Llama(model_path=path, n_ctx=n_ctx, chat_format="gemma", verbose=False)
    llama.create_chat_completion(
        messages=[{"role": "user", "content": "Say hi."}], max_tokens=8, temperature=0.0
    )
"""


def default_contexts() -> list[int]:
    """The `num_ctx` of every packaged agent whose chain holds the embedded model."""
    config = load_config(None)
    return sorted({a.num_ctx for a in config.agents.values() if REF in a.chain})


def _peak_mib(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Peak RSS (MiB) and wall seconds of one child, and its exit status."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    return usage.ru_maxrss / 1024, wall, child.returncode


def _offline_env(state: Path) -> dict[str, str]:
    """No keys, no Ollama (a port nothing listens on), run files in `state`."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env |= {"OLLAMA_HOST": f"http://127.0.0.1:{free_port()}", "XDG_STATE_HOME": str(state)}
    return env


def _example_repo(root: Path) -> Path:
    """The hello example at its place in a fresh git repository (its plan names its paths)."""
    shutil.copytree(EXAMPLE, root / "examples" / "hello")
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*ident, "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def measure(run_example: bool = True) -> Table:
    """Peak RSS of each child; `run_example=False` leaves out the slow default run."""
    contexts = default_contexts()
    largest = max(contexts)
    declared = 32768  # providers.yaml: gemma3-270m's context_window
    table = Table(
        "Memory: peak RSS of one process each (embedded gemma3-270m)",
        ["process", "peak RSS MiB", "wall s", "load"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = _offline_env(root / "state")
        loads = {
            f"one instance (n_ctx {largest})": [str(largest)],
            f"two instances (n_ctx {largest} and {declared})": [str(largest), str(declared)],
        }
        for name, sizes in loads.items():
            rss, wall, code = _peak_mib([sys.executable, "-c", _LOAD, *sizes], root, env)
            if code != 0:
                raise RuntimeError(f"{name}: the model did not load (exit {code})")
            table.add(name, f"{rss:.0f}", f"{wall:.1f}", load_average())
        if run_example:
            repo = _example_repo(root / "repo")
            argv = [sys.executable, "-m", "orchestrate", "run", "examples/hello/plan.md"]
            rss, wall, code = _peak_mib(argv, repo, env)
            table.add(
                f"default embedded run (exit {code})", f"{rss:.0f}", f"{wall:.1f}", load_average()
            )
    table.notes += [
        f"the packaged agents ask {REF} for n_ctx {', '.join(map(str, contexts))}",
        "default embedded run: orchestrate run examples/hello/plan.md, no keys, no Ollama",
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="skip the default embedded run")
    args = parser.parse_args()
    show(measure(run_example=not args.no_run))


if __name__ == "__main__":
    main()
