"""A loopback server standing in for an attacker's: it records every connection that reaches it.

Tests of the trust boundary point model-written commands at it; what it received is what leaked.
"""

from __future__ import annotations

import socket
import threading


class Attacker:
    """Accepts connections on 127.0.0.1 and keeps the first bytes of each (empty if none sent)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def accepted(self) -> int:
        """Connections that reached it."""
        return len(self.received)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.received.append(conn.recv(4096))

    def close(self) -> None:
        # shutdown() wakes the blocked accept(); close() alone leaves it listening on Linux.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join()
        self.sock.close()
