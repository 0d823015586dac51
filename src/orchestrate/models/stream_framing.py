"""Whether the answer to a streamed request is an event stream at all.

Anthropic's Messages API and OpenAI's Responses and chat-completions APIs answer `stream: true`
with server-sent events, `Content-Type: text/event-stream`
(https://platform.claude.com/docs/en/build-with-claude/streaming,
https://developers.openai.com/api/docs/guides/streaming-responses). A server or proxy that ignores
`stream` answers 200 with the whole JSON body instead; the SDKs' SSE decoders then find no event
at all (the anthropic SDK's `get_final_message` fails an `assert`), so the framing is checked as
soon as the headers arrive.
"""

from __future__ import annotations

from orchestrate.exceptions import NotStreamedError
from orchestrate.routing.failures import Failure, FailureKind

EVENT_STREAM = "text/event-stream"


def require_event_stream(ref: str, content_type: str | None) -> None:
    """Raise NotStreamedError unless `content_type` is the SSE media type."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != EVENT_STREAM:
        raise NotStreamedError(
            f"{ref} answered a streamed request with a whole {media or 'untyped'} body, not an "
            "event stream: its server (or a proxy before it) ignores `stream`; the next model "
            "in the chain is asked"
        )


def not_streamed(error: NotStreamedError) -> Failure:
    """The endpoint will answer every request this way: move along the chain, no retries."""
    return Failure(FailureKind.MOVE_ON, "not_streamed", str(error))
