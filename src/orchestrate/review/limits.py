"""Budgets that bound a large PR, and the list of what they left out: nothing is cut silently."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.github.patch import FilePatch, Hunk, PatchLine
from orchestrate.review.findings import SkippedItem
from orchestrate.review.risk import by_risk

CHARS_PER_TOKEN = 3
"""Three characters a token overestimates code and prose alike: the safe side for a budget."""
LINE_OVERHEAD = 8
"""Characters each rendered diff line adds (line number and marker)."""

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
    }
)
"""Files tools write: reviewing them line by line is all noise and cost."""
GENERATED_SUFFIXES = (".min.js", ".min.css", ".map")


class ReviewLimits(BaseModel):
    """How much of a PR one review may take on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_files: int = Field(default=50, ge=1)
    """Most files reviewed, the riskiest first; the rest are listed as skipped."""
    max_cloud_tokens: int = Field(default=60_000, ge=0)
    """Most tokens (prompt plus output) sent to and received from cloud models per review."""
    max_file_tokens: int = Field(default=6_000, ge=100)
    """Most diff tokens reviewed per file; lines past it are listed as skipped."""
    max_comments: int = Field(default=25, ge=0)
    """Most inline comments in one review (the most serious first); the rest go in its body."""


def estimate_tokens(text: str) -> int:
    """Upper estimate of the tokens in `text`."""
    return len(text) // CHARS_PER_TOKEN + 1


def hunk_tokens(hunk: Hunk) -> int:
    """Upper estimate of a hunk's tokens as rendered for a model."""
    chars = len(hunk.header) + sum(len(line.text) + LINE_OVERHEAD for line in hunk.lines)
    return chars // CHARS_PER_TOKEN + 1


@dataclass
class Selection:
    """The files to review (possibly shortened) and what was left out."""

    files: list[FilePatch] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)


def select_files(
    files: Sequence[FilePatch], limits: ReviewLimits, first: Collection[str] = ()
) -> Selection:
    """Drop what cannot or should not be reviewed, then take the `max_files` riskiest (paths in
    `first` lead) and apply the per-file cap. Whatever is left out is listed with its reason."""
    selection = Selection()
    candidates: list[FilePatch] = []
    for patch in files:
        reason = unreviewable(patch)
        if reason is None:
            candidates.append(patch)
        else:
            selection.skipped.append(SkippedItem(path=patch.path, reason=reason))
    for rank, patch in enumerate(by_risk(candidates, first)):
        if rank >= limits.max_files:
            reason = (
                f"over the max-files limit ({limits.max_files}): lower risk (kind of file, size "
                "of change) than the files reviewed; a later run reviews it"
            )
            selection.skipped.append(SkippedItem(path=patch.path, reason=reason, retry=True))
            continue
        kept, note = cap_file(patch, limits.max_file_tokens)
        selection.files.append(kept)
        if note is not None:
            selection.skipped.append(note)
    return selection


def unreviewable(patch: FilePatch) -> str | None:
    """Why a file gets no review at all, or None."""
    name = PurePosixPath(patch.path).name
    if patch.status == "removed":
        return "file deleted: no new lines to comment on"
    if name in LOCK_FILES or name.endswith(GENERATED_SUFFIXES):
        return "lock or generated file: not reviewed"
    if patch.patch is None or not patch.hunks:
        return "no text diff from GitHub (binary file, or a diff too large for the API)"
    return None


def cap_file(patch: FilePatch, max_tokens: int) -> tuple[FilePatch, SkippedItem | None]:
    """`patch` cut, line by line, to `max_tokens`; the note says from which line on it was cut."""
    budget = max_tokens
    hunks: list[Hunk] = []
    for hunk in patch.hunks:
        budget -= estimate_tokens(hunk.header)
        lines: list[PatchLine] = []
        for line in hunk.lines:
            cost = (len(line.text) + LINE_OVERHEAD) // CHARS_PER_TOKEN + 1
            if cost > budget:
                return _cut(patch, hunks, hunk, lines, max_tokens)
            budget -= cost
            lines.append(line)
        hunks.append(hunk)
    return patch, None


def _cut(
    patch: FilePatch, hunks: list[Hunk], hunk: Hunk, lines: list[PatchLine], max_tokens: int
) -> tuple[FilePatch, SkippedItem]:
    if lines:
        hunks = [*hunks, hunk.model_copy(update={"lines": lines})]
    kept = patch.model_copy(update={"hunks": hunks})
    reviewed = {n for h in hunks for n in h.new_lines()}
    upto = f"reviewed up to new line {max(reviewed)}" if reviewed else "nothing reviewed"
    total = sum(hunk_tokens(h) for h in patch.hunks)
    reason = (
        f"diff is ~{total} tokens, over the per-file cap of {max_tokens} (max-file-tokens): "
        f"{upto}, the rest was not reviewed"
    )
    return kept, SkippedItem(path=patch.path, reason=reason, retry=True)


class CloudTokens:
    """The `max_cloud_tokens` allowance of one review, spent by every cloud call of its steps.

    Calls run concurrently, so a call reserves its worst case before it is sent and releases the
    reservation when it returns; only what the provider reports is charged.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.reserved = 0

    @property
    def left(self) -> int:
        """Tokens still available."""
        return max(0, self.limit - self.used - self.reserved)

    def fits(self, tokens: int) -> bool:
        """Whether a call of about `tokens` can still be afforded."""
        return tokens <= self.left

    def reserve(self, tokens: int) -> bool:
        """Hold `tokens` for a call about to be sent; False (nothing held) when they do not fit."""
        if not self.fits(tokens):
            return False
        self.reserved += tokens
        return True

    def release(self, tokens: int) -> None:
        """Give back a reservation once its call has returned."""
        self.reserved = max(0, self.reserved - tokens)

    def charge(self, tokens: int) -> None:
        """Count tokens a cloud model actually used."""
        self.used += tokens
