"""llama.cpp's own log lines go to Python logging, not to the user's terminal.

llama-cpp-python 0.3.36 reads ggml's log levels by an older numbering (its WARN is 2, ERROR 3),
so the warnings of the llama.cpp it bundles (whose ggml.h numbers NONE 0, DEBUG 1, INFO 2,
WARN 3, ERROR 4, CONT 5: vendor/llama.cpp/ggml/include/ggml.h in the llama-cpp-python 0.3.36
sdist) reach stderr as errors, e.g. `llama_kv_cache_iswa: using full-size SWA cache` on every
load. Our callback reads the levels as that ggml.h defines them and logs them under
`orchestrate.llamacpp`: warnings and errors are there for `--debug` and log handlers; a
terminal running `orchestrate doctor` or the TUI sees none of it.
"""

from __future__ import annotations

import ctypes
import logging

import llama_cpp
import llama_cpp._logger

logger = logging.getLogger("orchestrate.llamacpp")
# Without a handler of its own, Python's last resort would print warnings to stderr after all.
logger.addHandler(logging.NullHandler())

_LEVELS = {
    0: logging.CRITICAL,
    1: logging.DEBUG,
    2: logging.INFO,
    3: logging.WARNING,
    4: logging.ERROR,
}
_CONTINUE = 5
_last = [logging.DEBUG]
"""The level of the line being continued (a one-item list: the callback has no other state)."""


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _log(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    if level != _CONTINUE:
        _last[0] = _LEVELS.get(level, logging.DEBUG)
    logger.log(_last[0], "%s", text.decode("utf-8", errors="replace").rstrip("\n"))


def quiet_llama_cpp() -> None:
    """Route llama.cpp's log through `logger` (idempotent; the callback lives as long as the module)."""
    llama_cpp.llama_log_set(_log, ctypes.c_void_p(0))
