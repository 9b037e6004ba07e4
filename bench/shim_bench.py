"""`make bench-invoke` (last part): what host mode's runtime shim (lambda_local/environments/runtime_shim.py) costs a
warm invocation. Round trips straight to one RIE running awslambdaric as is, against one running the shim
with the plane's client context (request id and trace header), over kept-alive connections: p50 and
p95 of 300 calls each after 20 warm-up calls, side by side in one run. No stack needed.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from lambda_local.environments.instance import RIE_INVOKE_PATH, client_context, wait_for_port
from lambda_local.environments.processes import free_port
from stack import ROOT
from stack.host_mode import rie_binary

CALLS, WARM_UP = 300, 20
APP = "def handler(event, context):\n    return {'request_id': context.aws_request_id}\n"


def round_trips(module: str, folder: Path, with_context: bool) -> list[float]:
    port, api_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [rie_binary(), "--runtime-interface-emulator-address", f"127.0.0.1:{port}"]
    command += ["--runtime-api-address", f"127.0.0.1:{api_port}", sys.executable, "-m", module, "app.handler"]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        asyncio.run(wait_for_port("127.0.0.1", port, 30))
        times = []
        with httpx.Client() as client:
            for i in range(CALLS + WARM_UP):
                headers = {"X-Amz-Client-Context": client_context(f"bench-{i}", "Root=1-bench")} if with_context else {}
                started = time.perf_counter()
                client.post(
                    f"http://127.0.0.1:{port}{RIE_INVOKE_PATH}", content=b"{}", headers=headers
                ).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
        return times[WARM_UP:]
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="shim-bench-") as tmp:
        (Path(tmp) / "app.py").write_text(APP)
        rows = [
            ("awslambdaric as is", round_trips("awslambdaric", Path(tmp), False)),
            ("runtime_shim, the plane's ids", round_trips("lambda_local.environments.runtime_shim", Path(tmp), True)),
        ]
    print()
    print(f"{'warm invocation, straight to one RIE':<40} {'p50':>8} {'p95':>8}")
    for label, times in rows:
        p95 = sorted(times)[int(0.95 * len(times))]
        print(f"  {label:<38} {statistics.median(times):>6.2f}ms {p95:>6.2f}ms")


if __name__ == "__main__":
    main()
