"""One GraphQL subscription over graphql-transport-ws, read in a thread, for tests that
drive a browser (Playwright's sync API) while they listen."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

from websockets.sync.client import ClientConnection


class Subscriber:
    """Each result with the moment it arrived, in `received`."""

    def __init__(
        self,
        socket: ClientConnection,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ):
        self.socket = socket
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        self.socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(self.socket.recv(timeout=10))["type"] == "connection_ack"
        self.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": query, "variables": variables or {}}}))  # fmt: skip
        self.received: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.socket:
            message = json.loads(raw)
            if message["type"] == "ping":
                self.socket.send(json.dumps({"type": "pong"}))
            elif message["type"] != "pong":
                self.received.put((time.monotonic(), message))

    def next(self, field: str, timeout: float = 10) -> tuple[float, dict]:
        """The next result's `field`, and when it arrived."""
        arrived, message = self.received.get(timeout=timeout)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return arrived, message["payload"]["data"][field]
