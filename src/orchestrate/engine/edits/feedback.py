"""The message that sends failed SEARCH/REPLACE blocks back to the model."""

from __future__ import annotations

from orchestrate.engine.edits.model import ApplyResult, BlockMismatch


def _failure(mismatch: BlockMismatch) -> list[str]:
    lines = [f"- {mismatch.message}"]
    if mismatch.closest:
        lines += [
            f"  Did you mean these lines of {mismatch.block.path}?",
            "```",
            mismatch.closest,
            "```",
        ]
    return lines


def mismatch_feedback(result: ApplyResult) -> str:
    """What applied, each failed block with the closest lines, and a request for only those.

    Empty when every block applied.
    """
    if result.ok:
        return ""
    if result.applied:
        done = ", ".join(f"block {item.block.index} ({item.block.path})" for item in result.applied)
        lines = [
            f"These blocks were applied and are now in the files (do not resend them): {done}."
        ]
    else:
        lines = ["None of your SEARCH/REPLACE blocks were applied."]
    lines.append("These blocks failed:")
    for mismatch in result.failed:
        lines += _failure(mismatch)
    numbers = ", ".join(str(mismatch.block.index) for mismatch in result.failed)
    lines.append(
        f"Resend ONLY the failed blocks ({numbers}), each under its file's path, with SEARCH "
        "lines copied exactly from the current file (without the line numbers)."
    )
    return "\n".join(lines)
