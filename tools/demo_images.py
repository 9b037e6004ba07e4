"""`make demo-images`: upload a generated photo to the local uploads bucket and nothing else; the
stack delivers the upload (S3 -> SNS -> both image functions) as the account would. Prints the
renditions and the labels once they appear."""

import io
import json
import sys
import time
from typing import Any

from PIL import Image

from lambda_local.providers import load
from stack import moto
from tools.imagegen import jpeg, photo

KEY = "demo/holiday photo 1.jpg"
NAMES = ("web", "tablet", "mobile")
TIMEOUT_S = 30


def wait_for(s3: Any, bucket: str, keys: list[str]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    pending = list(keys)
    while pending:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=pending[0])
        if any(o["Key"] == pending[0] for o in listing.get("Contents", [])):
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            sys.exit(
                f"s3://{bucket}/{pending[0]} did not appear within {TIMEOUT_S}s; see `make events` and `make logs`"
            )
        time.sleep(0.2)


def main() -> None:
    names = load().names
    uploads, renditions, labels = names["UploadsBucket"], names["RenditionsBucket"], names["LabelsBucket"]
    s3 = moto.client("s3")
    outputs = [f"{name}/{KEY}" for name in NAMES]
    labels_key = f"labels/{KEY}.json"
    s3.delete_objects(Bucket=renditions, Delete={"Objects": [{"Key": k} for k in outputs]})
    s3.delete_objects(Bucket=labels, Delete={"Objects": [{"Key": labels_key}]})

    data = jpeg(photo(4000, 3000), orientation=6, gps=True)
    started = time.monotonic()
    s3.put_object(Bucket=uploads, Key=KEY, Body=data, ContentType="image/jpeg")
    print(
        f"==> uploaded s3://{uploads}/{KEY}: 4000x3000 JPEG, EXIF orientation 6 (shown 3000x4000), GPS tags, "
        f"{len(data):,} bytes; no invoke: the upload notification does the rest",
        flush=True,
    )
    wait_for(s3, renditions, outputs)
    wait_for(s3, labels, [labels_key])
    print(f"==> renditions and labels present after {time.monotonic() - started:.1f}s\n")

    print(f"{'rendition':<10} {'size':>11} {'bytes':>9}  key (in s3://{renditions})")
    for key in outputs:
        body = s3.get_object(Bucket=renditions, Key=key)["Body"].read()
        width, height = Image.open(io.BytesIO(body)).size
        print(f"{key.split('/')[0]:<10} {width:>5}x{height:<5} {len(body):>9,}  {key}")

    document = json.loads(s3.get_object(Bucket=labels, Key=labels_key)["Body"].read())
    print(f"\nlabels of {KEY} (s3://{labels}/{labels_key}):")
    for label in document["labels"]:
        print(f"  {label['name']:<24} {label['confidence']:6.2f}%  parents: {', '.join(label['parents']) or '-'}")
    print("(the local Rekognition is moto's: its labels are canned, the plumbing is real)")


if __name__ == "__main__":
    main()
