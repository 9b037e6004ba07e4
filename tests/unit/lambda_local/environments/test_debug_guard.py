"""The debugger's guard: an editor's DAP connection reaches debugpy; a browser's request, a DNS-rebinding
page's, or another container's connection never does."""

import socket
import threading
from collections.abc import Iterator

import pytest

from lambda_local.environments.debug_guard import DebugGuard, gateways, host_peers, is_dap

DAP = b'Content-Length: 17\r\n\r\n{"command":"x"}\r\n'


class Debuggee:
    """Stands in for debugpy's socket: records what reaches it and echoes it back."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = self.server.getsockname()
        self.received = b""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    self.received += data
                    conn.sendall(data)


@pytest.fixture
def debuggee() -> Iterator[Debuggee]:
    found = Debuggee()
    yield found
    found.server.close()


def guard_for(target: tuple[str, int] | None, peers: frozenset[str] = frozenset({"127.0.0.1"})) -> DebugGuard:
    guard = DebugGuard(("127.0.0.1", 0), lambda: target, peers)
    guard.start()
    assert guard._server is not None
    guard.listen = guard._server.getsockname()
    return guard


def exchange(address: tuple[str, int], data: bytes) -> bytes:
    """What comes back for `data` (closed or reset by the guard: nothing)."""
    answer = b""
    with socket.create_connection(address, timeout=5) as conn:
        try:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError:  # reset, or already shut by the guard (ENOTCONN, EPIPE)
            pass
    return answer


def test_an_editors_dap_connection_is_passed_on_both_ways(debuggee: Debuggee) -> None:
    guard = guard_for(debuggee.address)
    try:
        assert exchange(guard.listen, DAP) == DAP
        assert debuggee.received == DAP
    finally:
        guard.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        # a web page's "simple" POST whose body is a DAP message: debugpy alone would read it as one
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1:5678\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\n"
        b'{"command":"x"}\r\n',
        b"GET / HTTP/1.1\r\nHost: rebound.evil.example:5678\r\n\r\n",  # a DNS-rebinding page
        b"",  # says nothing
    ],
)
def test_anything_but_dap_is_closed_before_it_reaches_the_debugger(debuggee: Debuggee, request_bytes: bytes) -> None:
    guard = guard_for(debuggee.address)
    try:
        assert exchange(guard.listen, request_bytes) == b""
        assert debuggee.received == b"" and guard.refused == 1
    finally:
        guard.close()


def test_a_peer_that_is_not_the_users_is_refused_even_speaking_dap(debuggee: Debuggee) -> None:
    guard = guard_for(debuggee.address, peers=frozenset({"172.18.0.1"}))  # Docker mode: the gateway only
    try:
        assert exchange(guard.listen, DAP) == b""
        assert debuggee.received == b""
    finally:
        guard.close()


def test_no_debugger_yet_closes_the_connection() -> None:
    guard = guard_for(None)
    try:
        assert exchange(guard.listen, DAP) == b""
    finally:
        guard.close()


def test_the_dap_header_is_recognised_in_any_case() -> None:
    assert is_dap(b"Content-Length: 10\r\n") and is_dap(b"content-length:")
    assert not is_dap(b"POST / HTTP/1.1") and not is_dap(b"Content-Type: x")


def test_a_containers_gateways_are_its_host_peers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    route = tmp_path / "route"
    route.write_text(
        "Iface\tDestination\tGateway \tFlags\n"
        "eth0\t00000000\t010012AC\t0003\n"  # default via 172.18.0.1
        "eth0\t000012AC\t00000000\t0001\n"
    )
    assert gateways(route.read_text()) == {"172.18.0.1"}
    assert host_peers(route) == {"172.18.0.1", "127.0.0.1", "::1"}
    assert host_peers(tmp_path / "missing") == {"127.0.0.1", "::1"}
