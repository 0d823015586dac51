"""How well each model keeps to an edit format, and when to stop asking for SEARCH/REPLACE.

Small local models often botch SEARCH/REPLACE markers but manage whole files. An agent set to
`search_replace` therefore drops to `whole` for one model once that model has shown, over
enough replies, that it mostly cannot produce the blocks. Counts are kept per model AND format,
so whole-file replies after the drop never count towards switching back (which would flap).
With a ledger behind them (`from_ledger`), the counts start from earlier runs' and every reply
is added to the ledger as it comes, so what a model showed in one run holds in the next.
"""

from __future__ import annotations

from orchestrate.config.schema import EditFormat
from orchestrate.ledger.edit_replies import FormatCount
from orchestrate.ledger.store import Ledger

MIN_REPLIES_TO_JUDGE = 3
"""Replies in a format before the share of well-formed ones is trusted."""
MIN_WELL_FORMED_SHARE = 0.5
"""Below this share of well-formed SEARCH/REPLACE replies, the model gets whole-file instead."""


class FormatStats:
    """Counts of well-formed replies per model ref and format, and the format to use next."""

    def __init__(self, ledger: Ledger | None = None) -> None:
        self._counts: dict[tuple[str, EditFormat], FormatCount] = {}
        self._ledger = ledger

    @classmethod
    def from_ledger(cls, ledger: Ledger) -> FormatStats:
        """Stats that start from the counts in `ledger` and add each new reply to it."""
        stats = cls(ledger)
        for row in ledger.edit_replies():
            stats._counts[(row.model, row.edit_format)] = FormatCount(
                well_formed=row.well_formed, malformed=row.malformed
            )
        return stats

    def record(self, model_ref: str, edit_format: EditFormat, well_formed: bool) -> None:
        """Count one reply of `model_ref` in `edit_format` (in the ledger too, if there is one)."""
        count = self._counts.setdefault((model_ref, edit_format), FormatCount())
        if well_formed:
            count.well_formed += 1
        else:
            count.malformed += 1
        if self._ledger is not None:
            self._ledger.count_edit_reply(model_ref, edit_format, well_formed)

    def count(self, model_ref: str, edit_format: EditFormat) -> FormatCount:
        """A copy of the counts for `model_ref` in `edit_format` (zeros if none yet)."""
        found = self._counts.get((model_ref, edit_format))
        return found.model_copy() if found is not None else FormatCount()

    def botches_blocks(self, model_ref: str) -> bool:
        """Whether `model_ref` has shown, over enough replies, that it mostly cannot write
        SEARCH/REPLACE blocks."""
        count = self.count(model_ref, "search_replace")
        return count.total >= MIN_REPLIES_TO_JUDGE and count.share < MIN_WELL_FORMED_SHARE

    def effective_format(self, agent_format: EditFormat, model_ref: str) -> EditFormat:
        """The format to ask `model_ref` for, given the agent's configured one."""
        if agent_format == "search_replace" and self.botches_blocks(model_ref):
            return "whole"
        return agent_format
