"""Docker mode's log path: syslog datagrams from the engine into each function's LogBuffer."""

import asyncio
import socket

from lambda_local.environments.container_logs import SyslogReceiver, parse_rfc5424, receive
from lambda_local.environments.log_buffer import LogBuffer
from tests.support.containers import free_port

# What Docker's syslog driver sends with syslog-format rfc5424 (tag = the compose service).
DATAGRAM = b"<30>1 2026-11-25T02:11:59Z host weather-api 4242 weather-api - START RequestId: 6f1c Version: $LATEST\n"


def test_a_docker_rfc5424_message_gives_its_tag_and_line():
    assert parse_rfc5424(DATAGRAM) == ("weather-api", "START RequestId: 6f1c Version: $LATEST")
    assert parse_rfc5424(b"<30>1 ts host tag 1 tag - ") == ("tag", "")
    assert parse_rfc5424(b"<30>1 ts host tag 1 tag - a b  c") == ("tag", "a b  c")


def test_anything_else_is_not_taken_for_a_log_line():
    assert parse_rfc5424(b"hello world") is None
    assert parse_rfc5424(b"<30>Nov 25 02:11:59 host tag[1]: rfc3164 line") is None
    assert parse_rfc5424(b'<30>1 ts host tag 1 tag [sd id="1"] structured') is None


def test_lines_reach_the_buffer_of_the_service_their_tag_names(tmp_path):
    async def scenario() -> tuple[list[str], list[str], int]:
        weather, labels = LogBuffer(tmp_path / "weather.log"), LogBuffer(tmp_path / "labels.log")
        port = free_port()
        transport, protocol = await receive({"weather-api": weather, "image-labels": labels}, "127.0.0.1", port)
        try:
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for datagram in (DATAGRAM, b"<30>1 ts h image-labels 1 image-labels - one", b"<30>1 ts h other 1 o - x"):
                sender.sendto(datagram, ("127.0.0.1", port))
            sender.close()
            mark = 0
            await weather.wait_for(mark, "START", 2)
            await labels.wait_for(mark, "one", 2)
            for _ in range(200):  # the unknown service's datagram, sent last
                if protocol.dropped:
                    break
                await asyncio.sleep(0.01)
        finally:
            transport.close()
        assert isinstance(protocol, SyslogReceiver)
        assert weather.flush()
        return weather.since(0), labels.since(0), protocol.dropped

    weather_lines, label_lines, dropped = asyncio.run(scenario())
    assert weather_lines == ["START RequestId: 6f1c Version: $LATEST"]
    assert label_lines == ["one"]
    assert dropped == 1
    assert (tmp_path / "weather.log").read_text() == "START RequestId: 6f1c Version: $LATEST\n"


ROUTES = """Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010012AC	0003	0	0	0	00000000	0	0	0
eth0	000012AC	00000000	0001	0	0	0	0000FFFF	0	0	0
"""


def test_the_engines_address_is_the_networks_gateway() -> None:
    from lambda_local.environments.debug_guard import gateways  # the one reader of the routing table

    assert gateways(ROUTES) == {"172.18.0.1"}


def test_datagrams_from_anyone_but_the_engine_are_dropped_forged_start_lines_included(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lambda_local.environments.container_logs import SyslogReceiver
    from lambda_local.environments.log_buffer import LogBuffer

    async def scenario() -> LogBuffer:
        buffer = LogBuffer(tmp_path / "f.log")
        receiver = SyslogReceiver({"image-resize": buffer}, senders=frozenset({"172.18.0.1"}))
        forged = b"<14>1 2026-12-03T00:00:00Z host image-resize 1 - - START RequestId: forged Version: $LATEST\n"
        receiver.datagram_received(forged, ("172.18.0.7", 40000))  # another container on the network
        receiver.datagram_received(forged.replace(b"forged", b"real"), ("172.18.0.1", 40001))
        assert receiver.foreign == 1
        return buffer

    buffer = asyncio.run(scenario())
    assert list(buffer.lines) == ["START RequestId: real Version: $LATEST"]
