"""The data of an edit round: what a model asked for, and what applying it did."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEdit(_Frozen):
    """A whole new file: the complete content the model wants at `path`."""

    kind: Literal["whole"] = "whole"
    path: str
    """The path as the model wrote it; checked by `resolve_edit_path` before any write."""
    content: str
    """The complete new content, newlines as `\\n`, ending in exactly one newline unless empty."""


class SearchReplace(_Frozen):
    """One SEARCH/REPLACE block: replace the lines `search` in `path` by the lines `replace`."""

    kind: Literal["search_replace"] = "search_replace"
    path: str
    """The path as the model wrote it; checked by `resolve_edit_path` before any write."""
    search: str
    """Lines to find, joined by `\\n`; blank means "create this file"."""
    replace: str
    """Lines to put in their place, joined by `\\n`."""
    index: int = Field(ge=1)
    """Position of the block in the model's reply (1-based), so feedback can name it."""

    @property
    def creates_file(self) -> bool:
        """An empty SEARCH asks for a new file."""
        return not self.search.strip()


Edit = FileEdit | SearchReplace


class ParsedEdits(_Frozen):
    """A model reply read as edits, or the reason it could not be (sent back to the model)."""

    edits: tuple[FileEdit | SearchReplace, ...] = ()
    """The edits in reply order."""
    error: str | None = None
    """Why the reply is malformed, phrased as an instruction to the model; None when well formed."""

    @property
    def well_formed(self) -> bool:
        """True when the reply held at least one edit and nothing was wrong with it."""
        return self.error is None and bool(self.edits)


MismatchReason = Literal["not_found", "ambiguous", "missing_file", "file_exists"]


class BlockMismatch(_Frozen):
    """A SEARCH/REPLACE block that could not be placed, with what the file holds nearby."""

    block: SearchReplace
    """The block as the model sent it."""
    reason: MismatchReason
    """Not found; found more than once; the file does not exist; or an empty SEARCH on a file."""
    message: str
    """One line describing the problem to the model."""
    closest: str = ""
    """The closest lines of the file, numbered (`  12 | text`), for a "did you mean"."""
    closest_line: int | None = None
    """First line number (1-based) of `closest`, when there is one."""


MatchKind = Literal["exact", "indent", "blank_lines", "create"]


class AppliedBlock(_Frozen):
    """A SEARCH/REPLACE block that was placed, and how loosely it had to match."""

    block: SearchReplace
    """The block as the model sent it."""
    match: MatchKind
    """Exact text; same text at another indentation; ignoring blank lines; or a new file."""
    line: int
    """1-based line of the file where the replaced lines started."""


class ApplyResult(_Frozen):
    """What `apply_edits` wrote, and which SEARCH/REPLACE blocks it could not place."""

    changed: tuple[str, ...] = ()
    """Files whose bytes changed, as posix paths relative to the root, in first-edit order."""
    applied: tuple[AppliedBlock, ...] = ()
    """SEARCH/REPLACE blocks written to disk."""
    failed: tuple[BlockMismatch, ...] = ()
    """SEARCH/REPLACE blocks that did not match; their files got only the other blocks."""

    @property
    def ok(self) -> bool:
        """True when every block applied."""
        return not self.failed
