"""`make bench-events`: end-to-end latency of the upload path (S3 put on the local endpoint -> S3
notification -> SNS -> the plane's queue poller -> imageResize through its RIE -> first rendition in
S3), against the same event invoked directly on the function's port, so the difference is what event
delivery adds (moto's S3 -> SNS -> SQS hops, the long poll, the async queue).
"""

import json
import statistics
import time
import urllib.request

import stack
from stack import ROOT, moto, read_env_file
from tools.imagegen import jpeg, photo, s3_event

UPLOADS = 50
POLL_S = 0.005


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    if not stack.stack_is_up():
        raise SystemExit("the stack is not up: run `make up`")
    env = read_env_file(ROOT / "local.env")
    uploads, renditions = env["IMAGE_UPLOAD_BUCKET"], env["IMAGE_DESTINATION_BUCKET"]
    s3 = moto.client("s3")
    body = jpeg(photo(1600, 1200, seed=11))
    run = time.strftime("%H%M%S")
    end_to_end, direct, puts = [], [], []
    print(
        f"{UPLOADS} uploads of a 1600x1200 JPEG ({len(body):,} bytes), then the same events invoked directly",
        flush=True,
    )
    for index in range(UPLOADS):
        key = f"bench/{run}/photo {index}.jpg"
        started = time.perf_counter()
        s3.put_object(Bucket=uploads, Key=key, Body=body, ContentType="image/jpeg")
        puts.append((time.perf_counter() - started) * 1000)
        first = None
        while True:
            # The first rendition marks the latency; the last one (mobile) ends the invocation, so
            # the next upload never queues behind this one.
            if first is None and s3.list_objects_v2(Bucket=renditions, Prefix=f"web/{key}").get("KeyCount"):
                first = (time.perf_counter() - started) * 1000
            if first is not None and s3.list_objects_v2(Bucket=renditions, Prefix=f"mobile/{key}").get("KeyCount"):
                break
            if time.perf_counter() - started > 30:
                raise SystemExit(f"no rendition of {key} after 30 s: see `make events`")
            time.sleep(POLL_S)
        end_to_end.append(first)
        time.sleep(0.05)  # the invocation's last steps (response, acknowledgement) after its last put
    time.sleep(2)  # let the labels deliveries of the last uploads finish
    port = stack.by_name("image-resize").port
    for index in range(UPLOADS):
        event = json.dumps(s3_event(uploads, [f"bench/{run}/photo {index}.jpg"])).encode()
        started = time.perf_counter()
        request = urllib.request.Request(f"http://127.0.0.1:{port}{stack.INVOKE_PATH}", data=event, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        direct.append((time.perf_counter() - started) * 1000)
    print(f"\n{'path':<44} {'p50 ms':>8} {'p95 ms':>8}")
    for name, values in (
        ("upload -> first rendition in S3 (delivered)", end_to_end),
        ("same event, invoked on :9003", direct),
    ):
        print(f"{name:<44} {statistics.median(values):>8.1f} {percentile(values, 0.95):>8.1f}")
    overhead = statistics.median(end_to_end) - statistics.median(direct)
    print(f"{'difference (p50)':<44} {overhead:>8.1f}")
    print(f"{'of which the PutObject call itself':<44} {statistics.median(puts):>8.1f} {percentile(puts, 0.95):>8.1f}")
    # The plane's own share: from taking the message off its queue to the invocation's start.
    lines = [json.loads(line) for line in stack.read_logs("lambda").splitlines() if line.startswith('{"time"')]
    waits = [
        line["queued_ms"]
        for line in lines
        if line.get("source") == "sns" and line["function"] == "imageResize" and "queued_ms" in line
    ][-UPLOADS:]
    if waits:
        label = "plane: message taken -> invocation begins"
        print(f"{label:<44} {statistics.median(waits):>8.1f} {percentile(waits, 0.95):>8.1f}")
    print("(the rest: the queue hop from moto to the plane, and imageLabels handling the same upload")
    print(" at the same time on the same cores)")


if __name__ == "__main__":
    main()
