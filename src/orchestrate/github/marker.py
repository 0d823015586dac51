"""The hidden marker in the sticky summary: the last reviewed head and fingerprints of comments
already posted, so re-runs review only new commits and never post a comment twice.

It lives in an HTML comment that GitHub does not render. Anything that does not decode exactly —
edited, truncated, a checksum that does not match, values of the wrong shape — is ignored, so
the worst a broken marker can cause is a full review, never a skipped one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable

from pydantic import BaseModel, Field, ValidationError

PREFIX = "<!-- orchestrate-review:v1 "
"""How a summary comment is recognised (together with its author)."""
MAX_FINGERPRINTS = 400
"""Most fingerprints kept; the oldest drop first so the comment stays far below GitHub's limit."""
MAX_PENDING_CHARS = 12_000
"""Most characters of unreviewed paths carried forward; a longer list keeps the old head instead,
so the comment stays below GitHub's size limit and nothing unreviewed is passed over."""
_MARKER = re.compile(r"<!-- orchestrate-review:v1 ([A-Za-z0-9+/=]{1,60000}) ([0-9a-f]{16}) -->")


class ReviewState(BaseModel):
    """What earlier runs did."""

    head_sha: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    """Last head commit reviewed (SHA-1, or SHA-256 repositories); None before any review."""
    fingerprints: list[str] = Field(default_factory=list, max_length=MAX_FINGERPRINTS * 2)
    """Fingerprints of every comment posted so far, oldest first."""
    pending: list[str] = Field(default_factory=list)
    """Files changed up to `head_sha` that no run has reviewed yet (a limit cut them, or a step
    failed): the next run reviews them again. The marker never passes over them."""

    def with_run(
        self, head_sha: str | None, posted: Iterable[str], pending: Iterable[str] = ()
    ) -> ReviewState:
        """The state after a run that reviewed `head_sha` but for `pending`, and posted `posted`.
        If `pending` is too long to carry, the head stays where it was (with its old pending)."""
        merged = list(dict.fromkeys([*self.fingerprints, *posted]))[-MAX_FINGERPRINTS:]
        left = list(dict.fromkeys(pending))
        if sum(len(path) + 4 for path in left) > MAX_PENDING_CHARS:
            return ReviewState(head_sha=self.head_sha, fingerprints=merged, pending=self.pending)
        return ReviewState(head_sha=head_sha, fingerprints=merged, pending=left)


def encode(state: ReviewState) -> str:
    """The marker text to put in the summary."""
    payload = base64.b64encode(state.model_dump_json().encode()).decode()
    return f"{PREFIX}{payload} {_checksum(payload)} -->"


def decode(text: str) -> ReviewState | None:
    """The state in `text`'s marker, or None when there is none or it does not decode exactly."""
    match = _MARKER.search(text)
    if match is None:
        return None
    payload, checksum = match.groups()
    if _checksum(payload) != checksum:
        return None
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
        state = ReviewState.model_validate(data)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValidationError):
        return None
    if not all(re.fullmatch(r"[0-9a-f]{8,64}", fp) for fp in state.fingerprints):
        return None
    return state


def _checksum(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
