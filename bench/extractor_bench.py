"""`make bench`: extractor latency over 1 M order_item rows through the RIE endpoint, and every
function's Init Duration and warm Duration from the RIE's own log lines (the image functions on
a 12 MP JPEG).

Loads the synthetic rows once (tools/gen_orders.py, dates in 2025) when the table holds fewer.
Env: BENCH_ITEMS (default 1000000), BENCH_INVOCATIONS (default 30), BENCH_COLD_STARTS (default 5).
"""

import json
import os
import re
import statistics
import time
from datetime import date
from typing import Any

import stack
from stack import ROOT, moto, read_env_file
from stack.functions import Function, functions
from tools import gen_orders
from tools.imagegen import jpeg, photo, s3_event

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
INVOCATIONS = int(os.environ.get("BENCH_INVOCATIONS", "30"))
COLD_STARTS = int(os.environ.get("BENCH_COLD_STARTS", "5"))
BENCH_DAY = "2025-07-02"  # inside the generated range
BENCH_IMAGE_KEY = "bench/photo 12mp.jpg"


def events() -> dict[str, dict]:
    """One event per function; the image functions get an S3 event for a 12 MP JPEG uploaded here."""
    bucket = read_env_file(ROOT / "local.env")["IMAGE_UPLOAD_BUCKET"]
    moto.client("s3").put_object(
        Bucket=bucket, Key=BENCH_IMAGE_KEY, Body=jpeg(photo(4000, 3000, seed=12)), ContentType="image/jpeg"
    )
    image_event = s3_event(bucket, [BENCH_IMAGE_KEY])
    samples = ROOT / "events"

    def sample(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((samples / name).read_text())
        return loaded

    return {
        "sales-data-extractor": {"date": BENCH_DAY},
        "sales-report": {"date": BENCH_DAY},
        "image-resize": image_event,
        "image-labels": image_event,
        # The sample events (a malformed record among them is reported, not raised).
        "order-etl": sample("order-etl/dynamodb-stream.json"),
        "sensor-anomaly": sample("sensor-anomaly/kinesis-telemetry.json"),
        "status-fanout": sample("status-fanout/api-post-status-invalid.json"),
        "weather-api": sample("weather-api/http-api-city.json"),
    }


# The RIE prints its own init timing (the REPORT line's "Init Duration" is not meaningful there).
INIT_RE = re.compile(r"INIT REPORT\(durationMs: ([0-9.]+)\)")
DURATION_RE = re.compile(r"REPORT RequestId: \S+\s+(?:Init Duration: [0-9.]+ ms\s+)?Duration: ([0-9.]+) ms")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ensure_rows() -> int:
    conn = stack.db_connection()
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM order_item")
        have = cur.fetchone()[0]
    if have < ITEMS:
        print(f"==> loading {ITEMS - have:,} synthetic order items (once per stack)", flush=True)
        gen_orders.generate(conn, ITEMS - have, date(2025, 1, 1), 365)
        with conn.cursor() as cur:
            cur.execute("ANALYZE TABLE `order`, order_item")
            cur.fetchall()
            cur.execute("SELECT COUNT(*) FROM order_item")
            have = cur.fetchone()[0]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM order_item a JOIN `order` o ON o.order_number = a.order_number "
            "WHERE o.order_date_time >= %s AND o.order_date_time < %s + INTERVAL 1 DAY",
            (BENCH_DAY, BENCH_DAY),
        )
        print(f"==> order_item rows: {have:,}; on {BENCH_DAY}: {cur.fetchone()[0]:,}", flush=True)
        started = time.perf_counter()
        cur.execute(
            "SELECT c.product_group_number, a.product_id, CAST(SUM(a.quantity) AS SIGNED) FROM order_item a, "
            "product b, product_group c WHERE b.id = a.product_id AND c.product_group_number = b.product_group "
            "GROUP BY c.product_group_number, a.product_id"
        )
        cur.fetchall()
        print(f"==> for scale: the lab's unfiltered query over all rows takes {time.perf_counter() - started:.3f}s")
    conn.close()
    return have


def invoke_ok(fn: Function, event: dict) -> float:
    started = time.perf_counter()
    status, body = stack.invoke(fn.port, event)
    elapsed = time.perf_counter() - started
    if status != 200 or b"errorType" in body or b'"failed": [{' in body:
        raise SystemExit(f"{fn.directory} failed: {body[:300]!r}")
    return elapsed


def new_log(service: str, offset: int) -> str:
    return stack.read_logs(service)[offset:]


def measure(fn: Function, event: dict) -> dict[str, list[float]]:
    inits, firsts, warm_durations, latencies = [], [], [], []
    for _ in range(COLD_STARTS):
        stack.restart_function(fn)
        offset = len(stack.read_logs(fn.directory))
        firsts.append(invoke_ok(fn, event))
        inits += [float(m) for m in INIT_RE.findall(new_log(fn.directory, offset))]
    invoke_ok(fn, event)  # warm
    offset = len(stack.read_logs(fn.directory))
    for _ in range(INVOCATIONS):
        latencies.append(invoke_ok(fn, event))
    warm_durations = [float(m) for m in DURATION_RE.findall(new_log(fn.directory, offset))]
    return {"init": inits, "first": firsts, "warm": warm_durations, "latency": latencies}


def main() -> None:
    if not stack.stack_is_up():
        raise SystemExit("the stack is not running: `make bench` starts it (or `make up`)")
    rows = ensure_rows()
    function_events = events()
    results = {}
    for fn in functions():
        print(f"==> {fn.directory}: {COLD_STARTS} cold starts, {INVOCATIONS} warm invocations", flush=True)
        results[fn.directory] = measure(fn, function_events[fn.directory])

    ms = 1000
    print(f"\nBenchmark: {rows:,} order_item rows, report day {BENCH_DAY}, {os.cpu_count()} cores, {stack.mode()} mode")
    header = (
        f"{'function':<22} {'init p50 ms':>11} {'init max ms':>11} {'cold total p50 ms':>17} "
        f"{'warm dur p50 ms':>15} {'warm dur p95 ms':>15} {'latency p50 ms':>14} {'latency p95 ms':>14}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(
            f"{name:<22} {statistics.median(r['init']):>11.1f} {max(r['init']):>11.1f} "
            f"{statistics.median(r['first']) * ms:>17.1f} {statistics.median(r['warm']):>15.1f} "
            f"{percentile(r['warm'], 95):>15.1f} {statistics.median(r['latency']) * ms:>14.1f} "
            f"{percentile(r['latency'], 95) * ms:>14.1f}"
        )
    extractor = results["sales-data-extractor"]["latency"]
    print(
        f"\nextractor latency over {rows:,} rows: p50 {statistics.median(extractor) * ms:.1f} ms, "
        f"p95 {percentile(extractor, 95) * ms:.1f} ms (target p50 < 1000 ms)"
    )
    worst_init = max(max(r["init"]) for r in results.values())
    print(f"worst Init Duration: {worst_init:.1f} ms (target < 500 ms)")
    # Cold total: the first invocation after a restart as its caller sees it (Init, the invocation, the queue).
    cold = {name: statistics.median(r["first"]) * ms for name, r in results.items()}
    met = [name for name, value in cold.items() if value <= 350]
    print(f"cold total p50 <= 350 ms: {len(met)} of {len(cold)} functions ({', '.join(met) or 'none'})")


if __name__ == "__main__":
    main()
