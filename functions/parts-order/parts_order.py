"""tractorPartsOrder's rules, pure and typed (no AWS call, no clock): the order request an execution starts
with, the function's settings, the supplier's confirmation, why an order is escalated, and the texts it
sends (the dealer's notice, the escalation email).

The request is what tractorSensorAnomaly sends for an incident (its `order_request`): the order id
"<tractor>#<part>#<incident ts>" and the incident's details. `reply_within_s`, optional, asks the supplier
for an answer sooner than SUPPLIER_TIMEOUT_SECONDS (never later): an order for a tractor that stands still.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from shared.errors import ConfigError, InvalidEventError, preview

Status = Literal["ORDERED", "CONFIRMED", "ESCALATED"]
# timeout: no answer in time; declined: the supplier answered with a failure; invalid-confirmation: an answer
# that names no delivery date; not-sent: the dealer's notice could not be published (after its retries).
Reason = Literal["timeout", "declined", "invalid-confirmation", "not-sent"]

DEFAULT_SUPPLIER_TIMEOUT_S = 48 * 3600
# A durable execution lasts a year at most (ExecutionTimeout); the supplier's wait must end inside it.
MAX_SUPPLIER_TIMEOUT_S = 364 * 86400
MAX_TEXT = 200  # ids and names in the request: DynamoDB keys, SNS subjects
MAX_REFERENCE = 64
SUBJECT_LIMIT = 100  # SNS subjects: printable ASCII, under 100 characters


@dataclass(frozen=True)
class Settings:
    orders_table: str
    dealer_topic_arn: str
    escalation_topic_arn: str
    supplier_timeout_s: int


def supplier_timeout(text: str) -> int:
    """SUPPLIER_TIMEOUT_SECONDS: whole seconds, 1 .. MAX_SUPPLIER_TIMEOUT_S."""
    try:
        seconds = int(text)
    except ValueError:
        raise ConfigError(f"SUPPLIER_TIMEOUT_SECONDS must be whole seconds, got {preview(text)}") from None
    if not 1 <= seconds <= MAX_SUPPLIER_TIMEOUT_S:
        raise ConfigError(f"SUPPLIER_TIMEOUT_SECONDS must be 1..{MAX_SUPPLIER_TIMEOUT_S}, got {seconds}")
    return seconds


@dataclass(frozen=True)
class OrderRequest:
    order_id: str
    tractor_id: str
    part: str
    sensor: str
    incident: str
    detected_at: str
    value: float
    unit: str
    z: float | None  # None: the baseline had no spread
    baseline: Mapping[str, float]  # mean, stddev, samples
    reply_within_s: int | None = None

    @classmethod
    def from_event(cls, event: Any) -> OrderRequest:
        """The request in an execution's input; InvalidEventError naming the field that is wrong."""
        if not isinstance(event, dict):
            raise InvalidEventError(f"an order request is a JSON object, got {preview(event)}")
        baseline = event.get("baseline", {})
        if not isinstance(baseline, dict):
            raise InvalidEventError(f"baseline must be an object, got {preview(baseline)}")
        window = event.get("reply_within_s")
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
            raise InvalidEventError(f"reply_within_s must be a whole number of seconds >= 1, got {preview(window)}")
        z = event.get("z")
        return cls(
            order_id=_text(event, "order_id"),
            tractor_id=_text(event, "tractor"),
            part=_text(event, "part"),
            sensor=_text(event, "sensor"),
            incident=_text(event, "incident"),
            detected_at=_text(event, "detected_at"),
            value=_number(event.get("value"), "value"),
            unit=_text(event, "unit", allow_empty=True),
            z=None if z is None else _number(z, "z"),
            baseline={
                "mean": _number(baseline.get("mean"), "baseline.mean"),
                "stddev": _number(baseline.get("stddev"), "baseline.stddev"),
                "samples": _count(baseline.get("samples"), "baseline.samples"),
            },
            reply_within_s=window,
        )

    def as_event(self) -> dict[str, Any]:
        """The request as an execution's input (what from_event reads)."""
        event: dict[str, Any] = {
            "order_id": self.order_id,
            "tractor": self.tractor_id,
            "part": self.part,
            "sensor": self.sensor,
            "incident": self.incident,
            "detected_at": self.detected_at,
            "value": self.value,
            "unit": self.unit,
            "z": self.z,
            "baseline": dict(self.baseline),
        }
        if self.reply_within_s is not None:
            event["reply_within_s"] = self.reply_within_s
        return event


def _text(event: Mapping[str, Any], name: str, allow_empty: bool = False) -> str:
    value = event.get(name)
    if not isinstance(value, str) or (not value and not allow_empty) or len(value) > MAX_TEXT:
        raise InvalidEventError(f"{name} must be a string of 1..{MAX_TEXT} characters, got {preview(value)}")
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidEventError(f"{name} must be a finite number, got {preview(value)}")
    return float(value)


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEventError(f"{name} must be a whole number >= 0, got {preview(value)}")
    return value


def reply_window(request: OrderRequest, settings: Settings) -> int:
    """Seconds the supplier has to confirm: the request's own window, never beyond the setting."""
    if request.reply_within_s is None:
        return settings.supplier_timeout_s
    return min(request.reply_within_s, settings.supplier_timeout_s)


@dataclass(frozen=True)
class Confirmation:
    delivery_date: date
    reference: str | None = None


class InvalidConfirmation(ValueError):
    """The supplier's answer names no delivery date (or not as one)."""


def parse_confirmation(raw: Any) -> Confirmation:
    """The supplier's callback result: {"delivery_date": "YYYY-MM-DD", "reference": "..." (optional)}, as
    JSON text (what SendDurableExecutionCallbackSuccess's Result carries) or already decoded."""
    document = raw
    if isinstance(raw, bytes | str):
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise InvalidConfirmation(f"not JSON: {preview(raw)}") from None
    if not isinstance(document, dict):
        raise InvalidConfirmation(f"a confirmation is a JSON object, got {preview(document)}")
    when = document.get("delivery_date")
    try:
        delivery = date.fromisoformat(when) if isinstance(when, str) and len(when) == 10 else None
    except ValueError:
        delivery = None
    if delivery is None:
        raise InvalidConfirmation(f"delivery_date must be a date as YYYY-MM-DD, got {preview(when)}")
    reference = document.get("reference")
    if reference is not None and (not isinstance(reference, str) or not 1 <= len(reference) <= MAX_REFERENCE):
        raise InvalidConfirmation(
            f"reference must be a string of 1..{MAX_REFERENCE} characters, got {preview(reference)}"
        )
    return Confirmation(delivery, reference)


@dataclass(frozen=True)
class Escalation:
    reason: Reason
    detail: str


def timed_out(window_s: int) -> Escalation:
    return Escalation("timeout", f"the supplier did not confirm within {duration_text(window_s)}")


def duration_text(seconds: int) -> str:
    """48 h, 90 min, 45 s."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def subject(text: str) -> str:
    """An SNS subject: printable ASCII (others as '?'), under SUBJECT_LIMIT characters."""
    ascii_only = "".join(c if " " <= c <= "~" else "?" for c in text)
    return ascii_only[: SUBJECT_LIMIT - 1]


def order_subject(request: OrderRequest) -> str:
    return subject(f"Spare part order: {request.part} for tractor {request.tractor_id}")


def dealer_notice(request: OrderRequest, callback_id: str, reply_by: datetime) -> dict[str, Any]:
    """The dealer's notice (SNS message, JSON): the order, and how to answer it before `reply_by`."""
    return {
        "order_id": request.order_id,
        "tractor": request.tractor_id,
        "part": request.part,
        "sensor": request.sensor,
        "incident": request.incident,
        "detected_at": request.detected_at,
        "z": None if request.z is None else round(request.z, 2),
        "value": request.value,
        "unit": request.unit,
        "baseline": dict(request.baseline),
        "callback_id": callback_id,
        "reply_by": stamp(reply_by),
        "reply": {
            "confirm": 'SendDurableExecutionCallbackSuccess, Result {"delivery_date": "YYYY-MM-DD", "reference": "…"}',
            "decline": 'SendDurableExecutionCallbackFailure, Error {"ErrorType": "...", "ErrorMessage": "why"}',
        },
    }


def escalation_subject(request: OrderRequest) -> str:
    return subject(f"Spare part order not confirmed: {request.part} for tractor {request.tractor_id}")


def escalation_text(request: OrderRequest, escalation: Escalation) -> str:
    """The escalation email's body (plain text: SNS email subscriptions get the message as it is)."""
    return "\n".join(
        [
            f"The spare-part order {request.order_id} is not confirmed: {escalation.detail}.",
            "",
            f"Tractor:   {request.tractor_id}",
            f"Part:      {request.part} (sensor {request.sensor}, incident {request.incident})",
            f"Reading:   {request.value:g} {request.unit} at {request.detected_at}",
            f"Reason:    {escalation.reason}",
            "",
            "Please order the part from another supplier or call the dealer.",
        ]
    )


def stamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as the other items of the table."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
