"""Reading a worker's reply in whichever edit format it was asked for."""

from __future__ import annotations

from collections.abc import Collection

from orchestrate.config.schema import EditFormat
from orchestrate.engine.edits.model import ParsedEdits
from orchestrate.engine.edits.search_replace import parse_search_replace
from orchestrate.engine.edits.whole_file import parse_whole_file


def parse_edits(
    text: str, edit_format: EditFormat, allowed: Collection[str] | None = None
) -> ParsedEdits:
    """The edits in `text` for `edit_format`; `allowed` is the subtask's file list."""
    if edit_format == "search_replace":
        return parse_search_replace(text, allowed)
    return parse_whole_file(text, allowed)
