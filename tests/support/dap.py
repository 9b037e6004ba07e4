"""A minimal Debug Adapter Protocol client (what VS Code speaks to debugpy): enough to attach, set
breakpoints, wait for a stop and continue, so a test can drive a debug session as an editor would."""

from __future__ import annotations

import json
import socket
import time
from typing import Any


class DapClient:
    def __init__(self, host: str, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buffer = b""
        self.seq = 0
        self.received: list[dict[str, Any]] = []

    @classmethod
    def initialized(cls, host: str, port: int, timeout: float = 30) -> DapClient:
        """A client whose `initialize` the adapter answered. A port Docker publishes accepts connections
        before the adapter in the container listens, then resets them: connecting and initializing are
        retried together until `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            client = cls(host, port, timeout=max(1.0, deadline - time.monotonic()))
            try:
                client.request(
                    "initialize", adapterID="debugpy", clientID="tests", pathFormat="path", linesStartAt1=True
                )
                return client
            except OSError:  # reset or closed before the adapter answered
                client.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def send(self, command: str, **arguments: Any) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _read(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, rest = self.buffer.split(b"\r\n\r\n", 1)
        length = int(dict(line.split(b": ", 1) for line in head.split(b"\r\n"))[b"Content-Length"])
        while len(rest) < length:
            self.buffer = rest
            self._fill()
            rest = self.buffer
        self.buffer = rest[length:]
        message: dict[str, Any] = json.loads(rest[:length])
        self.received.append(message)
        return message

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the debug adapter closed the connection")
        self.buffer += chunk

    def wait(self, kind: str, name: str, timeout: float = 30) -> dict[str, Any]:
        """The next event (kind "event") or response (kind "response") called `name`."""
        for message in self.received:
            if message.get("type") == kind and name in (message.get("event"), message.get("command")):
                self.received.remove(message)
                return message
        self.sock.settimeout(timeout)
        while True:
            message = self._read()
            if message.get("type") == kind and name in (message.get("event"), message.get("command")):
                self.received.remove(message)
                return message

    def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        self.send(command, **arguments)
        return self.wait("response", command)

    def close(self) -> None:
        self.sock.close()
