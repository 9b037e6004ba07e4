"""`make bench-fanout`: POST /status through the local REST API for users with 100 and 1,000 friends
(one or two devices each, 5 % disabled), and what the local SNS endpoint itself allows: the same
publishes made one at a time and 32 at a time straight to moto.
"""

import contextlib
import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from botocore.config import Config

import stack
from lambda_local.http.tokens import template_token
from lambda_local.providers import load
from stack import moto
from tools.seed_friends import seed, social_graph

RUNS = 3


def post(user: str) -> float:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.API_PORT}/status",
        data=b'{"text": "bench"}',
        method="POST",
        headers={"Authorization": "Bearer " + template_token(load(), {"sub": user})},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 202, response.read()
    return time.perf_counter() - started


def main() -> None:
    if not stack.stack_is_up():
        raise SystemExit("the stack is not up: run `make up`")
    print(f"{'friends':>8} {'devices':>8} {'p50 s':>7} {'max s':>7} {'ms per device':>14}")
    endpoints: list[str] = []
    for count in (100, 1000):
        user = f"bench-{count}-{time.time_ns()}"
        friends, devices = social_graph(user, count, 0.05, seed=count)
        endpoints = [arn for arns in seed(user, friends, devices).values() for arn in arns]
        post(user)  # warm
        times = [post(user) for _ in range(RUNS)]
        median = statistics.median(times)
        print(f"{count:>8} {len(devices):>8} {median:>7.2f} {max(times):>7.2f} {median * 1000 / len(devices):>14.2f}")
    pooled = moto.client("sns", config=Config(max_pool_connections=32))

    def publish(arn: str) -> None:
        with contextlib.suppress(pooled.exceptions.EndpointDisabledException):
            pooled.publish(TargetArn=arn, Message="bench")

    sample = endpoints[:500]
    started = time.perf_counter()
    for arn in sample:
        publish(arn)
    one = (time.perf_counter() - started) * 1000 / len(sample)
    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(publish, sample))
    many = (time.perf_counter() - started) * 1000 / len(sample)
    print(f"\nthe local SNS endpoint (moto) alone: {one:.2f} ms per publish one at a time, {many:.2f} ms 32 at a time")


if __name__ == "__main__":
    main()
