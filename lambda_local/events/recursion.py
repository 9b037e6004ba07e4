"""Recursive loop detection, as Lambda does it: a chain of invocations that keeps coming back to the same
function through SQS or through the Invoke API is stopped after about 16 rounds
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).

Lambda follows a chain by the X-Ray trace header: the invocation's header (`_X_AMZN_TRACE_ID` in the
function, set by the runtime) goes out with every SDK call the function makes (botocore adds it), and
SQS keeps it on the message as its `AWSTraceHeader` attribute. Locally:
- the plane gives each invocation a trace header whose `Lineage` field counts, per function, how many
  times each function ran in the chain (`<function hash>:<count>`, entries joined by `|`, so a loop
  through two functions is counted too); host mode's runtime takes it (runtime_shim.py);
- the functions' SQS calls go through the plane (`AWS_ENDPOINT_URL_SQS`, `sqs_proxy`), which keeps an
  outgoing message's trace header as its `AWSTraceHeader`: the local endpoint (moto) drops the HTTP
  header; their Lambda calls reach the Invoke API with the header as they are;
- a function the chain already ran MAX_DEPTH times is not invoked again: an SQS mapping sends the
  message to the queue's dead-letter queue if it has one (else deletes it); an `Event` invoke goes to
  the function's on-failure destination; a synchronous invoke is answered `RecursiveInvocationException`.
The RIE passes no trace header to the runtime: in both modes it runs the plane's runtime shim, which takes
the plane's (environments/runtime_shim.py). SNS and S3 carry no trace to their subscribers locally
(moto): those loops are not followed.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import zlib
from typing import Any
from urllib.parse import unquote

MAX_DEPTH = 16  # Lambda stops a loop after about 16 invocations
MAX_LINEAGE = 64  # functions a lineage counts; a header naming more keeps the first ones (and the own)
# What is read from a trace header, which any caller (or message) can set: a lineage entry is a function
# hash and a count of ASCII digits (a `²` or a 5000-digit count is no count); a root carried on is
# printable ASCII without `;`, as it goes on into an HTTP header and the function's environment.
_ENTRY = re.compile(r"([0-9a-f]{8}):([0-9]{1,9})")
_MOST = 999_999_999  # a count stays readable (nine digits)
_ROOT = re.compile(r"[!-:<-~]{1,128}")


def function_hash(function: str) -> str:
    return f"{zlib.crc32(function.encode()):08x}"


def fields(trace: str | None) -> dict[str, str]:
    # unquoted: botocore percent-encodes the header it sends (`|` arrives as %7C)
    parts = (part.split("=", 1) for part in unquote(trace or "").split(";") if "=" in part)
    return {key.strip(): value.strip() for key, value in parts}


def _lineage(trace: str | None) -> dict[str, int]:
    """The Lineage field's counts by function hash (entries that are not `<hash>:<count>` are skipped)."""
    counts: dict[str, int] = {}
    for entry in fields(trace).get("Lineage", "").split("|"):
        if (match := _ENTRY.fullmatch(entry.strip())) is not None:
            counts[match[1]] = int(match[2])
    return counts


def depth(trace: str | None, function: str) -> int:
    """How many times `function` ran in the chain that carried this trace header."""
    return _lineage(trace).get(function_hash(function), 0)


def stopped(trace: str | None, function: str) -> bool:
    """Whether a chain that carried `trace` may not invoke `function` again."""
    return depth(trace, function) >= MAX_DEPTH


def next_trace(trace: str | None, function: str) -> str:
    """The trace header of `function`'s invocation for a chain that carried `trace`: the same root, a
    new parent, the function's count in the lineage one higher (the other functions' counts kept)."""
    known = fields(trace)
    root = known.get("Root", "")
    if not _ROOT.fullmatch(root):
        root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    sampled = known.get("Sampled", "0") if known.get("Sampled") in ("0", "1", "?") else "0"
    counts = _lineage(trace)
    own = function_hash(function)
    counts[own] = min(counts.get(own, 0) + 1, _MOST)
    if len(counts) > MAX_LINEAGE:
        others = [owner for owner in counts if owner != own][: MAX_LINEAGE - 1]
        counts = {owner: counts[owner] for owner in others} | {own: counts[own]}
    lineage = "|".join(f"{owner}:{count}" for owner, count in counts.items())
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled={sampled};Lineage={lineage}"


def with_trace_attribute(target: str, body: Any, trace: str) -> Any:
    """An SQS SendMessage / SendMessageBatch request (JSON protocol) with the caller's trace header kept
    as each message's AWSTraceHeader, as SQS does for a call that carries X-Amzn-Trace-Id. What is not
    such a request (not an object, a message that is not one) is left as it is, for SQS to refuse."""

    def stamped(message: Any) -> Any:
        system = message.get("MessageSystemAttributes") if isinstance(message, dict) else None
        if not isinstance(message, dict) or not isinstance(system or {}, dict):
            return message
        system = dict(system or {})
        system.setdefault("AWSTraceHeader", {"DataType": "String", "StringValue": trace})
        return message | {"MessageSystemAttributes": system}

    if not isinstance(body, dict):
        return body
    if target.endswith(".SendMessage"):
        return stamped(body)
    if target.endswith(".SendMessageBatch") and isinstance(body.get("Entries"), list):
        return body | {"Entries": [stamped(e) for e in body["Entries"]]}
    return body


def dead_letter_queue(redrive_policy: str | None) -> str | None:
    """The dead-letter queue's name from a queue's RedrivePolicy attribute (None without a readable one)."""
    try:
        policy = json.loads(redrive_policy or "{}")
    except (ValueError, RecursionError):
        return None
    arn = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
    return (arn.rsplit(":", 1)[-1] or None) if isinstance(arn, str) else None
