"""The debugger's door: an editor's Debug Adapter Protocol connection, never a web page's request.

debugpy speaks DAP over a bare TCP socket and takes any `Content-Length:` header block as a message:
a web page's "simple" POST to its port, or a DNS-rebinding page, would be read as DAP requests (an
`evaluate` among them). So debugpy listens only where nothing else reaches it (host mode: a random
address of 127.0.0.0/8; Docker mode: the container's own loopback), and this guard listens on the
debugger's published address (127.0.0.1:5678) and passes a connection on only when
- its peer is one of the user's own: loopback (host mode), or in a container the network's gateway,
  where the host's connections through the published port arrive (another container is refused);
- its first bytes are a DAP header (`Content-Length: N`), which no HTTP request starts with.

Standard library only, on purpose: the debug image (containers.py) runs this file in the function's
own Python, where nothing of the plane is installed.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

DAP_HEADER = b"content-length:"
FIRST_BYTES_S = 10.0  # how long a connection may take to say what it speaks
LOOPBACK_PEERS = frozenset({"127.0.0.1", "::1"})
INNER_PORT = 5679  # Docker mode: debugpy's port on the container's loopback


def is_dap(first: bytes) -> bool:
    """Whether a connection's first bytes open a DAP message (a `Content-Length` header)."""
    return first[: len(DAP_HEADER)].lower() == DAP_HEADER


def gateways(route_table: str) -> frozenset[str]:
    """The gateway addresses of a Linux routing table (`/proc/net/route`: hex, little-endian)."""
    found = set()
    for line in route_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[2] != "00000000":
            with contextlib.suppress(ValueError, struct.error):
                found.add(socket.inet_ntoa(struct.pack("<I", int(fields[2], 16))))
    return frozenset(found)


def host_peers(route_file: Path = Path("/proc/net/route")) -> frozenset[str]:
    """Where the host's connections come from, seen from inside a container: loopback and its gateways
    (the plane's doors and its syslog channel ask it too: one reader of the routing table)."""
    try:
        return gateways(route_file.read_text()) | LOOPBACK_PEERS
    except OSError:
        return LOOPBACK_PEERS


def _first_bytes(conn: socket.socket) -> bytes:
    conn.settimeout(FIRST_BYTES_S)
    first = b""
    with contextlib.suppress(OSError):
        while len(first) < len(DAP_HEADER):
            chunk = conn.recv(len(DAP_HEADER) - len(first))
            if not chunk:
                break
            first += chunk
    return first


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Bytes from `source` to `sink` until `source` ends, then the end passed on (a half-close stays one)."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
    except OSError:  # reset: both ends go
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


class DebugGuard:
    """Listens on `listen`; passes each admitted connection to `target()` (None: no debugger yet)."""

    def __init__(
        self,
        listen: tuple[str, int],
        target: Callable[[], tuple[str, int] | None],
        peers: frozenset[str] = LOOPBACK_PEERS,
    ) -> None:
        self.listen, self.target, self.peers = listen, target, peers
        self.refused = 0
        self._server: socket.socket | None = None

    def start(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(self.listen)
        server.listen(8)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), name="debug-guard", daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, peer = server.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(conn, peer[0]), daemon=True).start()

    def _serve(self, conn: socket.socket, peer: str) -> None:
        with conn:
            first = _first_bytes(conn) if peer in self.peers else b""
            target = self.target() if is_dap(first) else None
            if target is None:
                self.refused += 1
                return
            try:
                upstream = socket.create_connection(target, timeout=10)
            except OSError:
                return
            with upstream:
                try:
                    conn.settimeout(None)
                    upstream.settimeout(None)
                    upstream.sendall(first)
                except OSError:
                    return
                back = threading.Thread(target=_pump, args=(upstream, conn), daemon=True)
                back.start()
                _pump(conn, upstream)
                back.join()


def start_in_container(port: int = 5678) -> DebugGuard:
    """Docker mode's debug environment: the guard on the container's published port, in front of
    debugpy on its loopback (INNER_PORT)."""
    guard = DebugGuard(("0.0.0.0", port), lambda: ("127.0.0.1", INNER_PORT), host_peers())  # noqa: S104
    guard.start()
    return guard
