"""Workers' edits: parsing replies (whole files or SEARCH/REPLACE), path safety, atomic writes."""

from orchestrate.engine.edits.apply import apply_edits, apply_edits_async
from orchestrate.engine.edits.feedback import mismatch_feedback
from orchestrate.engine.edits.format_stats import (
    MIN_REPLIES_TO_JUDGE,
    MIN_WELL_FORMED_SHARE,
    FormatStats,
)
from orchestrate.engine.edits.model import (
    AppliedBlock,
    ApplyResult,
    BlockMismatch,
    Edit,
    FileEdit,
    ParsedEdits,
    SearchReplace,
)
from orchestrate.engine.edits.parse import parse_edits
from orchestrate.engine.edits.paths import (
    MAX_FILE_BYTES,
    check_content_size,
    normalise_edit_path,
    resolve_edit_path,
)
from orchestrate.engine.edits.search_replace import apply_block, parse_search_replace
from orchestrate.engine.edits.whole_file import parse_whole_file
from orchestrate.ledger.edit_replies import FormatCount

__all__ = [
    "MAX_FILE_BYTES",
    "MIN_REPLIES_TO_JUDGE",
    "MIN_WELL_FORMED_SHARE",
    "AppliedBlock",
    "ApplyResult",
    "BlockMismatch",
    "Edit",
    "FileEdit",
    "FormatCount",
    "FormatStats",
    "ParsedEdits",
    "SearchReplace",
    "apply_block",
    "apply_edits",
    "apply_edits_async",
    "check_content_size",
    "mismatch_feedback",
    "normalise_edit_path",
    "parse_edits",
    "parse_search_replace",
    "parse_whole_file",
    "resolve_edit_path",
]
