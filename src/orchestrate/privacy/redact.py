"""Replaces private text with `[REDACTED:<rule>]`, for agents configured with `privacy: redact`."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrate.models.base import Message, ModelRequest
from orchestrate.privacy.scanner import Finding

SYSTEM = "system"
"""Location of findings in the system prompt."""


def message_location(index: int) -> str:
    """Location of findings in `request.messages[index]`."""
    return f"message {index}"


def redact_text(text: str, findings: Sequence[Finding]) -> str:
    """`text` with each finding's span replaced by `[REDACTED:<rule>]`."""
    pieces: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.span or (0, 0)):
        if finding.span is None:
            continue
        start, end = finding.span
        if start < cursor:
            # Overlaps the previous replacement: extend that one instead of nesting markers.
            cursor = max(cursor, end)
            continue
        pieces += [text[cursor:start], f"[REDACTED:{finding.rule}]"]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact_request(request: ModelRequest, findings: Sequence[Finding]) -> ModelRequest:
    """The request with every text finding replaced; findings without a span are ignored."""
    system = redact_text(request.system, [f for f in findings if f.location == SYSTEM])
    messages = tuple(
        Message(
            role=message.role,
            content=redact_text(
                message.content, [f for f in findings if f.location == message_location(index)]
            ),
            cache=message.cache,
        )
        for index, message in enumerate(request.messages)
    )
    return request.model_copy(update={"system": system, "messages": messages})
