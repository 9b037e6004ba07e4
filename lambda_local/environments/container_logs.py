"""Docker mode: the function containers' output, as the plane sees it in host mode.

Each function service logs through Docker's syslog driver to the plane (compose.yaml:
`syslog-address: udp://127.0.0.1:<port>`, tag = the compose service), without access to the Docker
socket. The lines land in that function's LogBuffer, so `LogType: Tail`, the request id of each
invocation (from the RIE's START line) and `.stack/logs/<folder>.log` work as in host mode.
`docker compose logs <service>` still works (the engine keeps a local copy of remote drivers' logs).

Only the engine may write here: its driver sends from the host, so the datagrams reach the plane's
container from its network's gateway (through the published port). A datagram from any other address
(another container on the compose network, forging a function's lines or a START line's request id)
is dropped and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from lambda_local.environments.log_buffer import LogBuffer
from lambda_local.logs import LOG


def parse_rfc5424(datagram: bytes) -> tuple[str, str] | None:
    """(APP-NAME, MSG) of one RFC 5424 message as Docker's syslog driver writes it, else None.

    `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`; the driver writes no
    structured data ("-"), which is what this expects.
    """
    text = datagram.decode("utf-8", errors="replace")
    fields = text.split(" ", 7)
    if len(fields) < 7 or not fields[0].startswith("<") or not fields[0].endswith(">1"):
        return None
    if fields[6] != "-":
        return None
    message = fields[7] if len(fields) == 8 else ""
    return fields[3], message.rstrip("\n")


class SyslogReceiver(asyncio.DatagramProtocol):
    """Appends each message to the LogBuffer of the service its tag names; others are dropped, and so
    is every datagram not from one of `senders` (when given)."""

    def __init__(self, buffers: Mapping[str, LogBuffer], senders: frozenset[str] | None = None) -> None:
        self.buffers = buffers
        self.senders = senders
        self.dropped = 0
        self.foreign = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.senders is not None and addr[0] not in self.senders:
            self.foreign += 1
            if self.foreign == 1:
                LOG.info(f"syslog datagrams from {addr[0]} dropped: not the engine's")
            return
        parsed = parse_rfc5424(data)
        buffer = self.buffers.get(parsed[0]) if parsed else None
        if parsed is None or buffer is None:
            self.dropped += 1
            return
        buffer.append(parsed[1])


async def receive(
    buffers: Mapping[str, LogBuffer], host: str, port: int, senders: frozenset[str] | None = None
) -> tuple[asyncio.DatagramTransport, SyslogReceiver]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: SyslogReceiver(buffers, senders), local_addr=(host, port)
    )
    return transport, protocol
