"""Recursive loop detection, as Lambda does it for SQS: a function that keeps feeding the queue that
invokes it is stopped after about 16 rounds (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).

Lambda follows a chain by the X-Ray trace header: the invocation's header (`_X_AMZN_TRACE_ID` in the
function, set by the runtime) goes out with every SDK call the function makes (botocore adds it), and
SQS keeps it on the message as its `AWSTraceHeader` attribute. Locally:
- the plane gives each invocation a trace header with a `Lineage=<function hash>:<count>` field, the
  count one more than the incoming message's when it is the same function (host mode's runtime takes
  it, runtime_shim.py);
- the functions' SQS calls go through the plane (`AWS_ENDPOINT_URL_SQS`, `sqs_proxy`), which keeps an
  outgoing message's trace header as its `AWSTraceHeader`: the local endpoint (moto) drops the HTTP
  header;
- an SQS mapping that receives a message whose lineage says its function ran MAX_DEPTH times in the
  chain does not invoke it again: the message goes to the queue's dead-letter queue if it has one (else
  it is deleted), reported as `RecursiveInvocationException`.
Docker mode runs the image's own runtime, which gets no trace header from the RIE: there no chain is
followed, as before.
"""

from __future__ import annotations

import json
import secrets
import time
import zlib
from typing import Any

MAX_DEPTH = 16  # Lambda stops a loop after about 16 invocations


def function_hash(function: str) -> str:
    return f"{zlib.crc32(function.encode()):08x}"


def fields(trace: str | None) -> dict[str, str]:
    parts = (part.split("=", 1) for part in (trace or "").split(";") if "=" in part)
    return {key.strip(): value.strip() for key, value in parts}


def depth(trace: str | None, function: str) -> int:
    """How many times `function` ran in the chain that sent a message with this trace header."""
    lineage = fields(trace).get("Lineage", "")
    owner, _, count = lineage.partition(":")
    return int(count) if owner == function_hash(function) and count.isdigit() else 0


def next_trace(trace: str | None, function: str) -> str:
    """The trace header of `function`'s invocation for a message that carried `trace`: the same root,
    a new parent, the lineage one deeper."""
    known = fields(trace)
    root = known.get("Root") or f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    lineage = f"{function_hash(function)}:{depth(trace, function) + 1}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled={known.get('Sampled', '0')};Lineage={lineage}"


def with_trace_attribute(target: str, body: dict[str, Any], trace: str) -> dict[str, Any]:
    """An SQS SendMessage / SendMessageBatch request (JSON protocol) with the caller's trace header kept
    as each message's AWSTraceHeader, as SQS does for a call that carries X-Amzn-Trace-Id."""
    attribute = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}

    def stamped(message: dict[str, Any]) -> dict[str, Any]:
        system = dict(message.get("MessageSystemAttributes") or {})
        system.setdefault("AWSTraceHeader", attribute["AWSTraceHeader"])
        return message | {"MessageSystemAttributes": system}

    if target.endswith(".SendMessage"):
        return stamped(body)
    if target.endswith(".SendMessageBatch") and isinstance(body.get("Entries"), list):
        return body | {"Entries": [stamped(e) if isinstance(e, dict) else e for e in body["Entries"]]}
    return body


def dead_letter_queue(redrive_policy: str | None) -> str | None:
    """The dead-letter queue's name from a queue's RedrivePolicy attribute."""
    try:
        arn = json.loads(redrive_policy or "{}").get("deadLetterTargetArn")
    except ValueError:
        return None
    return str(arn).rsplit(":", 1)[-1] if arn else None
