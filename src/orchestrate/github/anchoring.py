"""Checking every finding's (path, line) against the lines GitHub accepts comments on, before
posting: one bad line makes GitHub reject the whole review with a 422.

Findings arrive with the path and line the model named, untouched by the review steps. A line
the diff shows stays. A line at most DEFAULT_REACH lines from a shown line (models miscount by a
few) moves to the nearest one, and the comment says where it was. Anything else (a line further
away, no line, a file with no patch, a file this pull request does not change, the PR's own
text) goes into the review body with the path and line as named, so no finding is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from orchestrate.github.patch import FilePatch, Hunk
from orchestrate.review.findings import Finding

DEFAULT_REACH = 5
"""Furthest (in lines) a finding may be moved to reach a line the diff shows."""


class Placed(BaseModel):
    """A finding on a line GitHub will accept."""

    finding: Finding
    """The finding as the review produced it."""
    line: int
    """New-side line to comment on."""
    moved_from: int | None = None
    """The line the finding named, when it had to be moved."""


class Anchoring(BaseModel):
    """Findings split into those that can be inline comments and those for the review body."""

    placed: list[Placed]
    """Inline comments, on valid lines."""
    unplaced: list[Finding]
    """Findings with no valid line nearby (file not in the diff, no patch, far from any hunk)."""


def anchor(
    findings: Iterable[Finding], files: Sequence[FilePatch], *, reach: int = DEFAULT_REACH
) -> Anchoring:
    """Place each finding on a commentable line of `files` (the pull request's whole diff)."""
    by_path = {patch.path: patch for patch in files}
    placed: list[Placed] = []
    unplaced: list[Finding] = []
    for finding in findings:
        patch = by_path.get(finding.path)
        line = None if patch is None else _place(finding.line, patch, reach)
        if line is None:
            unplaced.append(finding)
        else:
            moved = None if line == finding.line else finding.line
            placed.append(Placed(finding=finding, line=line, moved_from=moved))
    return Anchoring(placed=placed, unplaced=unplaced)


def _place(line: int, patch: FilePatch, reach: int) -> int | None:
    if line < 1:  # not a line of the file: the finding is about the file as a whole
        return None
    if line in patch.commentable_lines():
        return line
    best: tuple[int, int] | None = None
    for hunk in patch.hunks:
        candidate = _nearest(line, hunk)
        if candidate is not None and (best is None or candidate[0] < best[0]):
            best = candidate
    if best is None or best[0] > reach:
        return None
    return best[1]


def _nearest(line: int, hunk: Hunk) -> tuple[int, int] | None:
    """(distance, line) of the hunk's commentable line closest to `line`."""
    lines = hunk.new_lines()
    if not lines:
        return None
    closest = min(lines, key=lambda n: (abs(n - line), n))
    return abs(closest - line), closest
