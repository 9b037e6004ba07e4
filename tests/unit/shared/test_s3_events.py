"""S3 notifications reach the image functions straight from S3 or inside SNS records (fan-out)."""

import json
from pathlib import Path

import pytest

from shared.errors import InvalidEventError
from shared.s3_events import S3ObjectRef, object_refs

EVENTS = Path(__file__).resolve().parents[3] / "events"
EXPECTED = [S3ObjectRef("photo-uploads", "samples/café terrace+1.jpg")]


def sns_event(*messages: object) -> dict:
    return {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"Message": m if isinstance(m, str) else json.dumps(m)}} for m in messages
        ]
    }


@pytest.mark.parametrize("function", ["image-resize", "image-labels"])
def test_sample_events_direct_and_through_sns_name_the_same_decoded_object(function):
    direct = json.loads((EVENTS / function / "s3-put.json").read_text())
    wrapped = json.loads((EVENTS / function / "sns-s3-put.json").read_text())
    assert object_refs(direct) == object_refs(wrapped) == EXPECTED


def test_every_sns_record_contributes_its_objects_and_test_events_are_dropped():
    s3 = json.loads((EVENTS / "image-resize" / "s3-put.json").read_text())
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "photo-uploads"}
    assert object_refs(sns_event(s3, test_event, s3)) == EXPECTED * 2
    assert object_refs(sns_event(test_event)) == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (sns_event("not json"), r"Records\[0\].Sns.Message is not an S3 event"),
        (sns_event({"Records": "x"}), r"Records\[0\].Sns.Message is not an S3 event"),
        ({"Records": ["x"]}, "every entry of Records must be an object"),
        ({"Records": []}, "non-empty Records"),
    ],
)
def test_malformed_events_are_named(event, message):
    with pytest.raises(InvalidEventError, match=message):
        object_refs(event)
