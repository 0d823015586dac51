"""Forwards the engine's event bus into the app as messages.

The bus calls its listeners synchronously, from whichever thread emits. `post_message` is safe
from any thread (it hops onto the app's loop when called off it), so one forwarding function
serves both async workers on the app's loop and thread workers.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump

from orchestrate.events import Event, EventBus
from orchestrate.tui.messages import EngineEvent


class EventBridge:
    """Subscribes to a bus while started; every event becomes an `EngineEvent` for `target`."""

    def __init__(self, bus: EventBus, target: MessagePump) -> None:
        self._bus = bus
        self._target = target
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Begin forwarding (idempotent)."""
        if self._unsubscribe is None:
            self._unsubscribe = self._bus.subscribe(self._forward)

    def stop(self) -> None:
        """Stop forwarding (idempotent)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _forward(self, event: Event) -> None:
        self._target.post_message(EngineEvent(event))
