"""Docker mode: the function containers' output, as the plane sees it in host mode.

Each function service logs through Docker's syslog driver to the plane (compose.yaml:
`syslog-address: udp://127.0.0.1:<port>`, tag = the compose service), without access to the Docker
socket. The lines land in that function's LogBuffer, so `LogType: Tail`, the request id of each
invocation (from the RIE's START line) and `.stack/logs/<folder>.log` work as in host mode.
`docker compose logs <service>` still works (the engine keeps a local copy of remote drivers' logs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from lambda_local.runtimes import LogBuffer

SYSLOG_PORT = 3514


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
    """Appends each message to the LogBuffer of the service its tag names; others are dropped."""

    def __init__(self, buffers: Mapping[str, LogBuffer]) -> None:
        self.buffers = buffers
        self.dropped = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        parsed = parse_rfc5424(data)
        buffer = self.buffers.get(parsed[0]) if parsed else None
        if parsed is None or buffer is None:
            self.dropped += 1
            return
        buffer.append(parsed[1])


async def receive(
    buffers: Mapping[str, LogBuffer], host: str, port: int
) -> tuple[asyncio.DatagramTransport, SyslogReceiver]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: SyslogReceiver(buffers), local_addr=(host, port))
    return transport, protocol
