"""Loading and running the packaged model prints nothing of llama.cpp's own on the terminal."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import asyncio
from orchestrate.config.schema import BUILTIN_ENDPOINTS
from orchestrate.models.base import Message, ModelRequest, ModelSettings
from orchestrate.models.registry import infer_model

async def main():
    model = infer_model("llamacpp:gemma3-270m", dict(BUILTIN_ENDPOINTS))
    request = ModelRequest(
        messages=(Message(role="user", content="Say OK."),),
        settings=ModelSettings(max_tokens=4, num_ctx=2048),
    )
    print((await model.request(request)).text)

asyncio.run(main())
"""


@pytest.mark.real_model
def test_llama_cpp_warnings_stay_off_stderr() -> None:
    # A fresh process: the warnings come when the model is first loaded.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600, check=True
    )
    assert done.stdout.strip()
    assert done.stderr == ""
