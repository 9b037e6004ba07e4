"""`make demo-images`: upload a generated photo, run image-resize and image-labels on its S3 event,
print the renditions and the labels."""

import json
import sys
from pathlib import Path
from urllib.parse import unquote_plus

from tools import moto
from tools.functions import by_name
from tools.imagegen import jpeg, photo
from tools.stack import ROOT, invoke, read_env_file

EVENT_FILE = ROOT / "events" / "image-resize" / "s3-put.json"


def run(function: str, event: dict) -> dict:
    fn = by_name(function)
    print(f"==> invoking {fn.lambda_name} on 127.0.0.1:{fn.port}", flush=True)
    code, body = invoke(fn.port, event)
    result = json.loads(body)
    if code != 200 or "errorType" in result:
        sys.exit(f"{function} failed: {json.dumps(result)[:500]}; see `make logs`")
    if result.get("failed"):
        sys.exit(f"{function} reported failures: {json.dumps(result['failed'], ensure_ascii=False)}")
    return result


def main() -> None:
    env = read_env_file(ROOT / "local.env")
    event = json.loads(Path(EVENT_FILE).read_text())
    record = event["Records"][0]["s3"]
    bucket, key = record["bucket"]["name"], unquote_plus(record["object"]["key"])
    s3 = moto.client("s3")
    data = jpeg(photo(4000, 3000), orientation=6, gps=True)
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")
    print(
        f"==> uploaded s3://{bucket}/{key}: 4000x3000 JPEG, EXIF orientation 6 (shown 3000x4000), GPS tags, "
        f"{len(data):,} bytes",
        flush=True,
    )

    resized = run("image-resize", event)
    print(f"\n{'rendition':<10} {'size':>11} {'bytes':>9}  key (in s3://{env['IMAGE_DESTINATION_BUCKET']})")
    for item in resized["processed"][0]["renditions"]:
        print(f"{item['name']:<10} {item['width']:>5}x{item['height']:<5} {item['bytes']:>9,}  {item['key']}")

    labelled = run("image-labels", event)
    image = labelled["images"][0]
    print(f"\nlabels of {image['key']} (s3://{env['LABELS_RESULTS_BUCKET']}/{image['labels_key']}):")
    for label in image["labels"]:
        print(f"  {label['name']:<24} {label['confidence']:6.2f}%  parents: {', '.join(label['parents']) or '-'}")
    print("(the local Rekognition is moto's: its labels are canned, the plumbing is real)")


if __name__ == "__main__":
    main()
