"""The functions' spans, received: `POST /v1/traces` (OTLP/HTTP) on the Invoke API's port, where every
function's OTEL_EXPORTER_OTLP_TRACES_ENDPOINT points (environments/variables.py).

    Content-Type: application/x-protobuf   an ExportTraceServiceRequest (the SDK exporter's default)
    Content-Type: application/json         the same in OTLP/JSON
    Content-Encoding: gzip                 optional (OTEL_EXPORTER_OTLP_COMPRESSION=gzip)

It answers as OTLP says: 200 with an ExportTraceServiceResponse in the request's encoding (a partial
success names the spans left out and why), 400 with a Status naming what is wrong with a body that is
no export request, 413 past BODY_LIMIT (compressed or not), 415 for another content type. The spans go
to the plane's trace store (lambda_local/traces/), never waiting for its disk.

Who may send: the Invoke API's doors (http/doors.py) admit loopback Host names (and Docker mode's
`lambda`, the name the function containers call the plane by), so host-mode functions on loopback and
Docker-mode function containers export as they invoke. A browser never exports spans: a request with
an `Origin` or `Sec-Fetch-*` header is refused here, whatever page sent it, and the two content types
are ones a page cannot send cross-site without a preflight this endpoint does not answer.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lambda_local.http.limits import TooLarge, read_limited
from lambda_local.settings import OTLP_TRACES_PATH
from lambda_local.traces import otlp

if TYPE_CHECKING:
    from lambda_local.plane import Plane

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
BODY_LIMIT = 8 * 1024 * 1024  # bytes of one export, as sent and once decompressed
INVALID_ARGUMENT = 3  # google.rpc.Code


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def status_body(content_type: str, code: int, message: str) -> bytes:
    """A google.rpc.Status (code, message) in the request's encoding: OTLP's error answer."""
    if content_type == JSON:
        return json.dumps({"code": code, "message": message}).encode()
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def gunzip(body: bytes, limit: int = BODY_LIMIT) -> bytes:
    """`body` decompressed, refused past `limit` bytes (a small body can inflate to gigabytes)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise otlp.Malformed(f"Content-Encoding gzip, but the body is no gzip data: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge
    if not inflater.eof:
        raise otlp.Malformed("Content-Encoding gzip, but the body's gzip data ends early")
    return out


def routes(plane: Plane) -> list[Route]:
    async def receive(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()

        def answer(status: int, message: str) -> Response:
            kind = content_type if content_type in (PROTOBUF, JSON) else JSON
            return Response(status_body(kind, INVALID_ARGUMENT, message), status_code=status, media_type=kind)

        if "origin" in request.headers or any(h.startswith("sec-fetch-") for h in request.headers):
            return answer(403, "span exports come from the functions' OpenTelemetry SDKs, never from a browser")
        if content_type not in (PROTOBUF, JSON):
            return answer(415, f"Content-Type must be {PROTOBUF} or {JSON} (OTLP/HTTP), not {content_type!r}")
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            return answer(415, f"Content-Encoding must be gzip or none, not {encoding!r}")
        try:
            body = await read_limited(request, BODY_LIMIT)
            if encoding == "gzip":
                body = gunzip(body, BODY_LIMIT)
            decode = otlp.decode_protobuf if content_type == PROTOBUF else otlp.decode_json
            decoded = await asyncio.to_thread(decode, body)
        except TooLarge:
            return answer(413, f"an export request must be at most {BODY_LIMIT} bytes (compressed or not)")
        except otlp.Malformed as exc:
            return answer(400, str(exc)[:1000])
        kept = plane.traces.add(decoded.spans)
        if kept < len(decoded.spans):  # the store's queue is full, or the store did not open
            decoded.rejected += len(decoded.spans) - kept
            decoded.reason = decoded.reason or "the plane's trace store is not keeping up (spans dropped)"
        if content_type == PROTOBUF:
            return Response(otlp.protobuf_answer(decoded), media_type=PROTOBUF)
        return Response(otlp.json_answer(decoded), media_type=JSON)

    return [Route(OTLP_TRACES_PATH, receive, methods=["POST"])]
