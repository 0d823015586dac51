"""A scripted worker's answer, written in the edit format the engine asked of it.

The engine asks a worker for whole files, or for SEARCH/REPLACE blocks when a whole-file reply
could not fit the model's output limit (`engine/worker_prompt.py`): a real-size file gets blocks.
A script gives a real-size edit once, as `edits` (path, search, replace); this module writes it
as the blocks, or applies it to the file as it stands at that point and sends the whole file.
Tiny tasks give whole `files` and are only ever asked for whole files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from orchestrate.engine.prompts import worker_instructions
from orchestrate.models.base import ModelRequest

Format = Literal["whole", "search_replace"]
_BLOCKS_ASKED = worker_instructions("search_replace", []).split(".", 1)[0]
"""The engine's own words when it asks for SEARCH/REPLACE blocks ("Reply with SEARCH/REPLACE
blocks"); the answer is matched to them, never guessed."""


class Edit(BaseModel):
    """One change to one file: `search` (exact current lines, or empty to create the file) and
    what replaces it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    search: str = ""
    replace: str


def asked_format(request: ModelRequest) -> Format:
    """The edit format the worker's request asks for."""
    return "search_replace" if _BLOCKS_ASKED in request.messages[0].content else "whole"


def apply(files: Mapping[str, str], edits: Iterable[Edit]) -> dict[str, str]:
    """`files` (path → text; a missing path is an empty new file) with `edits` applied in order;
    ValueError if a search is not found exactly once (a broken script, not a model's slip)."""
    out = dict(files)
    for edit in edits:
        text = out.get(edit.path, "")
        if not edit.search:
            out[edit.path] = edit.replace
            continue
        if text.count(edit.search) != 1:
            raise ValueError(f"{edit.path}: the script's search must match once: {edit.search!r}")
        out[edit.path] = text.replace(edit.search, edit.replace, 1)
    return out


def whole_files(files: Mapping[str, str]) -> str:
    """Each file's path line, then the whole file in one fence: the whole-file reply."""
    blocks = []
    for path, text in files.items():
        language = "python" if path.endswith(".py") else ""
        blocks.append(f"{path}\n```{language}\n{text}```\n")
    return "\n".join(blocks)


def search_replace(edits: Iterable[Edit]) -> str:
    """The SEARCH/REPLACE reply: each edit's path line and one block."""
    return "\n".join(
        f"{e.path}\n<<<<<<< SEARCH\n{e.search}=======\n{e.replace}>>>>>>> REPLACE\n" for e in edits
    )
