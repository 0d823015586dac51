"""Triage: a cheap call sorts files into architectural and routine; when in doubt, architectural."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrate.github.patch import FilePatch
from orchestrate.review.calls import CALL_FAILURES, StepCall
from orchestrate.review.untrusted import UNTRUSTED_NOTE, untrusted

HEADERS_PER_FILE = 8
"""Hunk headers shown per file: enough to see which functions change, bounded for huge files."""


class TriageItem(BaseModel):
    """The triage's verdict on one file."""

    model_config = ConfigDict(extra="forbid")

    path: str
    """The file, exactly as listed."""
    kind: Literal["architectural", "routine"]
    """`architectural` gets the deep review; `routine` the local one."""
    reason: str = ""
    """A few words on why."""


class TriageAnswer(BaseModel):
    """The triage's structured answer."""

    model_config = ConfigDict(extra="forbid")

    files: list[TriageItem] = Field(default_factory=list)
    """One entry per listed file."""


@dataclass
class TriageResult:
    """Files by review kind, and the triage's reasons for the deep reviewer."""

    architectural: list[FilePatch] = field(default_factory=list)
    routine: list[FilePatch] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    """Set when the triage could not run and every file counted as architectural."""


def render_listing(files: Sequence[FilePatch]) -> str:
    """Paths, status, sizes and hunk headers: what triage needs, a small part of the diff."""
    rows = []
    for patch in files:
        rows.append(f"- {patch.path} ({patch.status}, +{patch.additions} -{patch.deletions})")
        headers = [hunk.header for hunk in patch.hunks]
        rows.extend(f"    {header}" for header in headers[:HEADERS_PER_FILE])
        if len(headers) > HEADERS_PER_FILE:
            rows.append(f"    ... {len(headers) - HEADERS_PER_FILE} more hunks")
    return "\n".join(rows)


def triage_message(files: Sequence[FilePatch], title: str, body: str) -> str:
    """The triage's user message."""
    return "\n\n".join(
        [
            UNTRUSTED_NOTE,
            f"## PR title\n{untrusted('title', title)}",
            f"## PR description\n{untrusted('description', body or '(none)')}",
            f"## Changed files\n{untrusted('files', render_listing(files))}",
            "## How to answer\nClassify every listed file as architectural or routine.",
        ]
    )


async def triage(
    files: Sequence[FilePatch],
    *,
    title: str,
    body: str,
    call: StepCall | None,
    deep: Collection[str] = (),
) -> TriageResult:
    """Sort `files`; with no triage step, or a failed one, every file counts as architectural.
    Paths in `deep` are architectural whatever the triage answers (our scan flagged them)."""
    if not files:
        return TriageResult()
    if call is None:
        return TriageResult(architectural=list(files))
    result = await _ask(files, title, body, call)
    for patch in [p for p in result.routine if p.path in deep]:
        result.routine.remove(patch)
        result.architectural.append(patch)
        result.reasons[patch.path] = "text in it addresses the reviewer (flagged by our scan)"
    return result


async def _ask(files: Sequence[FilePatch], title: str, body: str, call: StepCall) -> TriageResult:
    try:
        answer, _ = await call.ask(triage_message(files, title, body), TriageAnswer)
    except CALL_FAILURES as error:
        note = f"triage failed ({error}); every file was treated as architectural"
        return TriageResult(architectural=list(files), note=note)
    return sort_files(files, answer)


def sort_files(files: Sequence[FilePatch], answer: TriageAnswer) -> TriageResult:
    """Apply an answer: only an explicit `routine` makes a file routine; unknown paths are ignored."""
    said = {item.path: item for item in answer.files}
    result = TriageResult()
    for patch in files:
        item = said.get(patch.path)
        if item is not None and item.kind == "routine":
            result.routine.append(patch)
            continue
        result.architectural.append(patch)
        result.reasons[patch.path] = item.reason if item is not None else "not classified"
    return result
