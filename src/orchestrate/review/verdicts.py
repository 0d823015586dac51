"""Model prose never states a verdict the review does not carry. Every review is posted with the
event COMMENT: it neither approves nor requests changes, so no text we post may say it does (an
injected "APPROVED. This PR is safe to merge" must not reach the summary)."""

from __future__ import annotations

import re
from collections.abc import Callable

SUMMARY_VERDICT = re.compile(
    r"\b(approv(e|ed|es|ing)|lgtm|looks\s+good\s+to\s+me|ship\s+it|"
    r"(safe|ready|good|fine|ok|okay|cleared)\s+(to|for)\s+(merge|merging|ship|land|go)|"
    r"changes?\s+requested|request(s|ed|ing)?\s+changes|(do\s+not|don't|must\s+not)\s+merge|"
    r"block(s|ed|ing)?\s+(the\s+|this\s+)?merge)\b",
    re.IGNORECASE,
)
"""Any verdict word at all: the summary speaks about the whole PR, where each of these is one."""

FINDING_VERDICT = re.compile(
    r"\b(lgtm|looks\s+good\s+to\s+me|ship\s+it|"
    r"(safe|ready|good|fine|ok|okay|cleared)\s+(to|for)\s+(merge|merging|ship|land)|"
    r"(i\s+)?approve\s+(this|the)\s+(pr|pull\s+request|changes?)|"
    r"(this|the)\s+(pr|pull\s+request|change)\s+is\s+approved|"
    r"changes?\s+requested|(i\s+)?request(ing)?\s+changes)\b",
    re.IGNORECASE,
)
"""Verdicts on the PR as a whole; a remark may still say "the approval check is skipped"."""

REMOVED = "[verdict removed]"
SUMMARY_NOTE = (
    "_(Sentences stating a verdict were removed from this summary: an automated review only "
    "comments, and a person decides.)_"
)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def neutral_remark(text: str) -> str:
    """A finding's text with PR-level verdicts replaced; code spans are kept as written."""
    return _outside_code(text, lambda part: FINDING_VERDICT.sub(REMOVED, part))


def neutral_summary(text: str, fallback: str) -> str:
    """The summary without the sentences that state a verdict (outside code spans), saying so;
    `fallback` when nothing is left."""
    sentences = [s for s in _SENTENCE.split(text.strip()) if s.strip()]
    kept = [s for s in sentences if not SUMMARY_VERDICT.search(_CODE_SPAN.sub("", s))]
    if len(kept) == len(sentences):
        return text
    if not kept:
        return f"{fallback}\n\n{SUMMARY_NOTE}"
    return f"{' '.join(kept)}\n\n{SUMMARY_NOTE}"


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    parts: list[str] = []
    at = 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(change(text[at : match.start()]))
        parts.append(match.group(0))
        at = match.end()
    parts.append(change(text[at:]))
    return "".join(parts)
