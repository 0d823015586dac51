"""Every batching test fails on an error nobody handled on its event loop ("Task exception was
never retrieved", a task destroyed while pending): the queue must await what it starts."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
async def _no_unhandled_loop_errors() -> AsyncIterator[None]:
    unhandled: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    yield
    gc.collect()  # a task's un-retrieved error is reported when the task is collected
    await asyncio.sleep(0)
    loop.set_exception_handler(None)
    assert [context["message"] for context in unhandled] == []
