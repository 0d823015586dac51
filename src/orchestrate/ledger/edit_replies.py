"""Counts of workers' replies that parsed in their edit format, per model, kept across runs.

They let an agent set to SEARCH/REPLACE drop to whole files for a model that has kept botching
the blocks in earlier runs, not only in this one, and `orchestrate cost` shows them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from orchestrate.config.schema import EditFormat

MIGRATION = (
    """CREATE TABLE edit_replies (
        model TEXT NOT NULL, edit_format TEXT NOT NULL,
        well_formed INTEGER NOT NULL, malformed INTEGER NOT NULL,
        PRIMARY KEY (model, edit_format))""",
)
"""The ledger's schema step that adds the counts."""

UPSERT = """INSERT INTO edit_replies (model, edit_format, well_formed, malformed)
    VALUES (?, ?, ?, ?)
    ON CONFLICT (model, edit_format) DO UPDATE SET
        well_formed = well_formed + excluded.well_formed,
        malformed = malformed + excluded.malformed"""
"""Adds one reply to a model's count (an increment, so concurrent runs never lose one)."""

SELECT = "SELECT model, edit_format, well_formed, malformed FROM edit_replies ORDER BY model"


class FormatCount(BaseModel):
    """Well-formed and malformed replies of one model in one format."""

    model_config = ConfigDict(extra="forbid")

    well_formed: int = 0
    """Replies that parsed into edits."""
    malformed: int = 0
    """Replies that did not parse (sent back to the model)."""

    @property
    def total(self) -> int:
        """All replies counted."""
        return self.well_formed + self.malformed

    @property
    def share(self) -> float:
        """Fraction of replies that were well formed (1.0 before any reply)."""
        return self.well_formed / self.total if self.total else 1.0


class EditReplies(FormatCount):
    """How one model's worker replies in one edit format have gone, over every run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    """`provider:model`."""
    edit_format: EditFormat
    """The format the replies were asked in."""
