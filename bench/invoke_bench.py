"""`make bench-invoke`: what the local plane's queue adds over a direct RIE call, and throughput with
32 concurrent clients per function (a quick extractor query: an empty day).

Direct calls go to the extractor's RIE process itself (host mode), the one place besides the plane
that opens a socket to an RIE, to measure the difference.
"""

import json
import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import stack

EVENT = json.dumps({"date": "2031-06-01"}).encode()
RUNS = 300


def post(url: str) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=EVENT, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    if stack.mode() != "host" or not stack.stack_is_up():
        raise SystemExit("run in host mode with the stack up (`make up`)")
    with urllib.request.urlopen(f"{stack.LAMBDA_ENDPOINT}/_local/functions", timeout=10) as response:
        state = {f["function"]: f for f in json.load(response)["functions"]}
    rie = state["salesAnalysisReportDataExtractor"]["instances"][0]["url"] + stack.INVOKE_PATH
    api = f"{stack.LAMBDA_ENDPOINT}/2015-03-31/functions/salesAnalysisReportDataExtractor/invocations"
    paths = {
        "direct RIE": rie,
        "function port (queue)": f"http://127.0.0.1:9001{stack.INVOKE_PATH}",
        "Invoke API (queue)": api,
    }
    for url in paths.values():  # warm
        for _ in range(20):
            post(url)
    rows = {}
    for _ in range(3):  # interleaved rounds, so drift hits every path alike
        for name, url in paths.items():
            rows.setdefault(name, []).extend(post(url) for _ in range(RUNS // 3))
    base = statistics.median(rows["direct RIE"])
    print(f"\nInvoke latency, extractor on an empty day, {RUNS} sequential calls each (ms)")
    print("| path | p50 | p95 | p50 overhead vs direct |")
    print("|---|---|---|---|")
    for name, values in rows.items():
        p50 = statistics.median(values)
        print(f"| {name} | {p50:.2f} | {percentile(values, 0.95):.2f} | {p50 - base:+.2f} |")
    url = paths["Invoke API (queue)"]
    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        latencies = list(pool.map(lambda _: post(url), range(320)))
    elapsed = time.perf_counter() - started
    print(
        f"\n32 concurrent clients, 320 invokes through the Invoke API: {320 / elapsed:.0f} invokes/s, "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, all succeeded"
    )


if __name__ == "__main__":
    main()
