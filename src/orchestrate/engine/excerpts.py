"""A file too large to show whole, shown as the regions around the symbols a task names.

What is left out is not dropped in silence: each gap in the file is a marker line outlining
what it defines (as the repo map would), and the excerpt carries a one-line note for the event
and the report. The regions are the file's own lines, unchanged, so a worker can copy them into
SEARCH blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrate.engine.symbols import Span, symbol_spans

GAP = "⋯"
"""Starts every line that stands for lines not shown (a character source code does not use)."""
CONTEXT_LINES = 3
"""Lines shown before and after each named symbol."""
HEAD_LINES = 25
"""The file's first lines (docstring, imports), shown when room is left."""
OUTLINE_ITEMS = 12
"""Most symbols a gap's marker lists."""


@dataclass(frozen=True)
class Excerpt:
    """A file as shown to a model."""

    text: str
    note: str = ""
    """What was left out, in one line; empty when the file is shown whole."""


def _mentioned(name: str, wanted: str) -> bool:
    return len(name) > 1 and re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", wanted) is not None


def _regions(spans: list[Span], wanted: str, total: int) -> tuple[list[tuple[int, int]], list[str]]:
    """Line ranges to show, most wanted first, and the names they were chosen for."""
    named = [s for s in spans if _mentioned(s.name, wanted)]
    # A named method shows its class's header line too, for where it lives.
    headers = {s.name: s.start for s in spans if not s.parent}
    regions: list[tuple[int, int]] = []
    for span in named:
        if span.parent in headers:
            regions.append((headers[span.parent], headers[span.parent]))
        regions.append(_with_context(span, spans, total))
    first = min((s.start for s in spans), default=total + 1)
    regions.append((1, min(HEAD_LINES, first - 1, total)))
    return [r for r in regions if r[0] <= r[1]], list(dict.fromkeys(s.name for s in named))


def _with_context(span: Span, spans: list[Span], total: int) -> tuple[int, int]:
    """The span and a few lines around it, but none of a neighbouring symbol's lines."""
    before = max((s.end for s in spans if s.end < span.start), default=0)
    after = min((s.start for s in spans if s.start > span.end), default=total + 1)
    return max(1, before + 1, span.start - CONTEXT_LINES), min(
        total, after - 1, span.end + CONTEXT_LINES
    )


def _choose(regions: list[tuple[int, int]], lines: list[str], limit: int) -> list[tuple[int, int]]:
    """The regions that fit `limit` characters, in priority order; a region too large for the
    room left is cut to its first lines that fit."""
    kept: list[tuple[int, int]] = []
    room = limit
    for start, end in regions:
        size = sum(len(line) for line in lines[start - 1 : end])
        if size <= room:
            kept.append((start, end))
            room -= size
            continue
        last = start - 1
        while last < end and len(lines[last]) <= room:
            room -= len(lines[last])
            last += 1
        if last >= start:
            kept.append((start, last))
        break
    return _merged(kept)


def _merged(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(regions):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _gap(start: int, end: int, spans: list[Span]) -> str:
    inside = [s for s in spans if not s.parent and start <= s.start <= end]
    head = f"{GAP} lines {start:,}-{end:,} not shown"
    if not inside:
        return head + "\n"
    listed = [f"{GAP}   {s.summary}" for s in inside[:OUTLINE_ITEMS]]
    if len(inside) > OUTLINE_ITEMS:
        listed.append(f"{GAP}   … {len(inside) - OUTLINE_ITEMS} more")
    return "\n".join([f"{head}; they define:", *listed]) + "\n"


def excerpt(path: str, text: str, wanted: str, limit: int) -> Excerpt:
    """`text` whole if it is at most `limit` characters; else the regions around the symbols
    `wanted` names (then the file's head), outlined gaps between them."""
    if len(text) <= limit:
        return Excerpt(text)
    lines = text.splitlines(keepends=True)
    spans = symbol_spans(path, text)
    regions, names = _regions(spans, wanted, len(lines))
    # Markers take room too: keep a share of it for them.
    shown = _choose(regions, lines, max(0, limit - limit // 8))
    parts: list[str] = []
    cursor = 1
    for start, end in shown:
        if start > cursor:
            parts.append(_gap(cursor, start - 1, spans))
        parts.extend(lines[start - 1 : end])
        cursor = end + 1
    if cursor <= len(lines):
        parts.append(_gap(cursor, len(lines), spans))
    count = sum(end - start + 1 for start, end in shown)
    around = f"around {', '.join(names)}" if names else "no symbol the task names was found"
    note = (
        f"{path}: {count:,} of {len(lines):,} lines shown ({around}); "
        "the rest outlined by its symbols"
    )
    return Excerpt("".join(parts), note)
