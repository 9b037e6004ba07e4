"""image-resize and image-labels through their RIE endpoints, against moto's S3 and Rekognition."""

import io
import json

import pytest
from PIL import Image

from stack import moto
from tests.integration.conftest import TEMPLATE
from tools.imagegen import GPS_IFD, encode, jpeg, photo, png_bomb, png_with_alpha, s3_event

pytestmark = pytest.mark.integration
UPLOADS = TEMPLATE.names["UploadsBucket"]
RENDITIONS = TEMPLATE.names["RenditionsBucket"]
LABELS = TEMPLATE.names["LabelsBucket"]
NAMES = ("web", "tablet", "mobile")


@pytest.fixture(scope="module")
def s3():
    return moto.client("s3")


def upload(s3, key: str, data: bytes, content_type: str = "image/jpeg") -> None:
    s3.put_object(Bucket=UPLOADS, Key=key, Body=data, ContentType=content_type)


def rendition(s3, name: str, key: str) -> tuple[Image.Image, dict]:
    obj = s3.get_object(Bucket=RENDITIONS, Key=f"{name}/{key}")
    image = Image.open(io.BytesIO(obj["Body"].read()))
    image.load()
    return image, obj


def rendition_keys(s3, key: str) -> list[str]:
    found = []
    for name in NAMES:
        listing = s3.list_objects_v2(Bucket=RENDITIONS, Prefix=f"{name}/{key}")
        found += [o["Key"] for o in listing.get("Contents", []) if o["Key"] == f"{name}/{key}"]
    return found


GOOD = {
    "trip/beach day+1 café.jpg": ("JPEG", (1280, 960)),  # spaces, '+', unicode
    "rotated/portrait.jpg": ("JPEG", (960, 1280)),  # EXIF orientation 6 on a 4000x3000 frame
    "logos/alpha.png": ("PNG", (1280, 853)),
    "tiny/icon.jpg": ("JPEG", (120, 80)),
}
BAD = {
    "bad/not-an-image.jpg": "not an image",
    "bad/truncated.jpg": "corrupt or truncated image data",
    "bad/bomb.png": "decompression bomb: 20000x20000",
    "bad/deleted.jpg": "object no longer exists",
}


@pytest.fixture(scope="module")
def resize_run(s3, invoke):
    upload(s3, "trip/beach day+1 café.jpg", jpeg(photo(2000, 1500), gps=True))
    upload(s3, "rotated/portrait.jpg", jpeg(photo(4000, 3000, seed=5), orientation=6, gps=True))
    upload(s3, "logos/alpha.png", png_with_alpha(1500, 1000), "image/png")
    upload(s3, "tiny/icon.jpg", jpeg(photo(120, 80)))
    upload(s3, "bad/not-an-image.jpg", b"plain text pretending to be a photo")
    upload(s3, "bad/truncated.jpg", jpeg(photo(1600, 1200))[:5000])
    upload(s3, "bad/bomb.png", png_bomb(), "image/png")
    # A stale rendition from an earlier attempt must not survive a failure of its source.
    s3.put_object(Bucket=RENDITIONS, Key="web/bad/truncated.jpg", Body=b"stale")
    keys = [*GOOD, *BAD, "web/already-a-rendition.jpg"]
    event = s3_event(UPLOADS, keys)
    event["Records"].append(s3_event(RENDITIONS, ["loop.jpg"])["Records"][0])
    return event, invoke("image-resize", event)


def test_good_images_get_every_rendition_with_the_right_size_and_format(s3, resize_run):
    _, result = resize_run
    processed = {item["key"]: item["renditions"] for item in result["processed"]}
    assert processed.keys() == GOOD.keys()
    for key, (fmt, web_size) in GOOD.items():
        reported = {r["name"]: r for r in processed[key]}
        assert reported.keys() == set(NAMES)
        for name in NAMES:
            image, obj = rendition(s3, name, key)
            assert image.format == fmt
            assert image.size == (reported[name]["width"], reported[name]["height"])
            assert obj["ContentLength"] == reported[name]["bytes"]
            assert obj["ContentType"] == f"image/{fmt.lower()}" == reported[name]["content_type"]
            assert obj["CacheControl"].startswith("public, max-age=")
            assert not image.getexif().get_ifd(GPS_IFD), f"GPS EXIF left in {name}/{key}"
        assert rendition(s3, "web", key)[0].size == web_size


def test_sizes_keep_aspect_and_never_upscale(s3, resize_run):
    assert rendition(s3, "tablet", "trip/beach day+1 café.jpg")[0].size == (1024, 768)
    assert rendition(s3, "mobile", "rotated/portrait.jpg")[0].size == (480, 640)
    for name in NAMES:
        assert rendition(s3, name, "tiny/icon.jpg")[0].size == (120, 80)
    assert rendition(s3, "mobile", "logos/alpha.png")[0].mode == "RGBA"


def test_bad_objects_fail_with_key_and_reason_and_leave_nothing(s3, resize_run):
    _, result = resize_run
    failed = {item["key"]: item["reason"] for item in result["failed"] if item["bucket"] == UPLOADS}
    assert failed.keys() == BAD.keys()
    for key, reason in BAD.items():
        assert reason in failed[key]
        assert rendition_keys(s3, key) == [], f"renditions left behind for {key}"


def test_recursion_guard(resize_run):
    _, result = resize_run
    assert result["skipped"] == [
        {
            "bucket": UPLOADS,
            "key": "web/already-a-rendition.jpg",
            "reason": "key is under a rendition prefix (already a rendition)",
        }
    ]
    assert {
        "bucket": RENDITIONS,
        "key": "loop.jpg",
        "reason": f"refusing to write renditions into the source bucket {RENDITIONS}",
    } in result["failed"]


def test_same_event_twice_gives_the_same_objects(s3, invoke, resize_run):
    event, first = resize_run
    before = {(n, k): rendition(s3, n, k)[1]["ETag"] for k in GOOD for n in NAMES}
    second = invoke("image-resize", event)
    assert second == first
    after = {(n, k): rendition(s3, n, k)[1]["ETag"] for k in GOOD for n in NAMES}
    assert after == before


def test_oversized_object_is_refused_before_download(s3, invoke):
    key = "bad/huge.jpg"
    upload(s3, key, jpeg(photo(64, 64)) + b"\0" * (50 * 1024 * 1024))
    try:
        result = invoke("image-resize", s3_event(UPLOADS, [key]))
    finally:
        s3.delete_object(Bucket=UPLOADS, Key=key)
    assert result["processed"] == []
    assert "over the limit of 52,428,800" in result["failed"][0]["reason"]
    assert rendition_keys(s3, key) == []


def test_malformed_event_is_a_clear_error(invoke):
    result = invoke("image-resize", {"Records": []})
    assert result["errorType"] == "InvalidEventError"
    assert "non-empty Records list" in result["errorMessage"]
    result = invoke("image-labels", {"Records": [{"s3": {}}]})
    assert result["errorType"] == "InvalidEventError"


def test_labels_are_written_next_to_the_image_and_returned(s3, invoke):
    upload(s3, "labels-test/cup of coffee.jpg", jpeg(photo(800, 600)))
    upload(s3, "labels-test/logo.png", encode(photo(300, 300), "PNG"), "image/png")
    upload(s3, "labels-test/notes.txt", b"not a picture", "text/plain")
    keys = ["labels-test/cup of coffee.jpg", "labels-test/logo.png", "labels-test/notes.txt", "labels-test/gone.jpg"]
    result = invoke("image-labels", s3_event(UPLOADS, keys))
    assert [i["key"] for i in result["images"]] == keys[:2]
    for image in result["images"]:
        assert image["labels_key"] == f"labels/{image['key']}.json"
        document = json.loads(s3.get_object(Bucket=LABELS, Key=image["labels_key"])["Body"].read())
        assert document["bucket"] == UPLOADS and document["key"] == image["key"]
        assert document["labels"] == image["labels"] and document["labels"]
        for label in document["labels"]:
            assert label["name"] and 0 <= label["confidence"] <= 100
            assert isinstance(label["parents"], list) and isinstance(label["instances"], list)
    assert result["skipped"] == [
        {
            "bucket": UPLOADS,
            "key": "labels-test/notes.txt",
            "reason": "content type text/plain is not a JPEG or PNG image (Rekognition reads only those)",
        }
    ]
    assert result["failed"] == [
        {
            "bucket": UPLOADS,
            "key": "labels-test/gone.jpg",
            "reason": "object no longer exists (deleted before processing)",
        }
    ]
