"""A scriptable HTTP server on 127.0.0.1 that the protocol fakes build on.

Real SDK clients talk to it over real sockets, so tests exercise the same code paths as production:
status codes, headers, streaming, cut connections and malformed bodies.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 makes a sixth concurrent client wait ~1 s to retry.
    request_queue_size = 128


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Protocol fakes render it in their wire format."""

    text: str = ""
    """Answer text; for structured requests, the JSON document."""
    input_tokens: int = 10
    output_tokens: int = 5
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    model: str | None = None
    """Model to report as having answered; None echoes the requested one."""
    status: int = 200
    """Non-200 makes this an error reply."""
    error: str = ""
    """Error message for non-200 replies."""
    error_type: str | None = None
    """Provider-specific error type/code (e.g. `overloaded_error`, `context_length_exceeded`)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. `retry-after`."""
    delay_s: float = 0.0
    """Sleep before answering (to trigger client timeouts)."""
    cut_after_chunks: int | None = None
    """Streaming only: send this many chunks, then drop the connection."""
    malformed: bool = False
    """Answer 200 with a body that is not valid JSON."""
    unstreamed: bool = False
    """Answer a streamed request with 200 and the whole non-stream JSON body
    (`application/json`), as a server or proxy that ignores `stream` does."""
    prompt_tokens_reported: int | None = None
    """Ollama: prompt_eval_count to report (to simulate silent truncation)."""
    thinking: str = ""
    """Thinking shown before the answer (Anthropic thinking blocks, OpenAI reasoning summaries or
    `reasoning_content`, Ollama `message.thinking`), where the request allows it."""
    reasoning_tokens: int = 0
    """Of `output_tokens`, how many were reasoning (OpenAI reports them apart)."""


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body) if self.body else None


@dataclass
class Response:
    """What a protocol fake wants sent back."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    """When set, the body is streamed with chunked transfer encoding."""
    cut_after_chunks: int | None = None
    delay_s: float = 0.0

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        """A JSON response."""
        hdrs = {"content-type": "application/json", **(headers or {})}
        return cls(status=status, body=json.dumps(payload).encode(), headers=hdrs)


Handler = Callable[[RecordedRequest], Response]


class FakeServer:
    """Base of the protocol fakes: a threaded loopback HTTP server with a reply script and a request log."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        """Every request received, in order (bodies included, for privacy assertions)."""
        self.script: deque[Reply] = deque()
        self.default: Reply | None = None
        """Answer used when the script is empty; None makes an empty script an error."""
        self.unscripted: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = self._serving_thread()

    def _serving_thread(self) -> threading.Thread:
        return threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:PORT`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def kill(self) -> None:
        """Die as a crashed server does: stop listening (new connections are refused) and drop
        every connection open now, mid-request or not."""
        self.stop()
        with self._lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def revive(self) -> None:
        """Serve again on the same port, as a restarted server does."""
        host, port = self._server.server_address[:2]
        self._server = _Server((str(host), port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = self._serving_thread()
        self._thread.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push(self, *replies: Reply) -> None:
        """Queue replies, answered in order."""
        self.script.extend(replies)

    def next_reply(self, request: RecordedRequest) -> Reply:
        """Take the next scripted reply; a missing one is recorded and answered with a 500."""
        with self._lock:
            if self.script:
                return self.script.popleft()
            if self.default is not None:
                return self.default
            self.unscripted.append(request)
        return Reply(status=500, error="fake server: no scripted reply left for this request")

    def assert_drained(self) -> None:
        """Fail if a scripted reply was never used or a request found none."""
        assert not self.script, f"{len(self.script)} scripted replies were never requested"
        assert not self.unscripted, f"{len(self.unscripted)} requests found no scripted reply"

    def bodies(self) -> list[str]:
        """Every request body as text."""
        return [r.body.decode("utf-8", "replace") for r in self.requests]

    def handle(self, request: RecordedRequest) -> Response:
        """Answer one request; protocol fakes override this."""
        raise NotImplementedError

    def _record_and_handle(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(request)
        return self.handle(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Responses go out in several writes; with Nagle on, each stalls on the client's
            # delayed ACK (~40 ms), which would swamp latency benchmarks.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake._connections.add(self.connection)

            def finish(self) -> None:
                with fake._lock:
                    fake._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                try:
                    _write(self, fake._record_and_handle(request))
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (a timeout test, a cut stream): nothing left to answer.
                    self.close_connection = True

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _serve

        return _Handler


def _write(handler: BaseHTTPRequestHandler, response: Response) -> None:
    if response.delay_s:
        time.sleep(response.delay_s)
    handler.send_response(response.status)
    for name, value in response.headers.items():
        handler.send_header(name, value)
    if response.chunks is None:
        handler.send_header("content-length", str(len(response.body)))
        handler.end_headers()
        handler.wfile.write(response.body)
        return
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    for index, chunk in enumerate(response.chunks):
        if response.cut_after_chunks is not None and index >= response.cut_after_chunks:
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.flush()
    handler.wfile.write(b"0\r\n\r\n")


def free_port() -> int:
    """A loopback port with nothing listening on it (for refused-connection tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
