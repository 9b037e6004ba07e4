"""`make bench-imports`: where each function's Init goes, from `python -X importtime`.

Imports the runtime client and then `app` in a fresh interpreter, as the runtime does at Init: in
the function's image (Docker mode: read-only root, Lambda's user, the function's environment) or
with the project's virtualenv (host mode, whose packages are the union of all functions' and so
cost more). Prints, per function, the median over runs of the whole import and of the packages
that take most of it (each package's own time, its submodules included, not what it imports from
other packages).

The functions run traced, as locally (an OTLP endpoint set): tracing costs Init nothing, since
shared/tracing.py starts OpenTelemetry at the first invocation and imports the exporter at its
first export. A second table measures that cost, in the same interpreter after Init: the pipeline's
start (SDK, instrumentations), the first export of one span to a collector in the probe (exporter,
protobuf, requests, a connection) and a warm export.

Env: BENCH_IMPORT_RUNS (default 5), FUNCTION (one function folder; default all).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import stack
from lambda_local.environments.variables import PASSED_THROUGH
from stack.common import ROOT, function_env
from stack.docker_mode import compose
from stack.functions import Function, functions

RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "5"))
TOP = 8
LINE = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$")  # self us | cumulative us | module
PROBE = "import awslambdaric.bootstrap; import app"
# After Init: what tracing adds to the first invocation. The collector's socket is bound before Init
# (the endpoint must be set when app makes its tracer) and served after it (its imports are not Init's).
TRACED_PROBE = """
import json, os, socket, time
listener = socket.create_server(("127.0.0.1", 0))
os.environ.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:%d" % listener.getsockname()[1]
import awslambdaric.bootstrap, app
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from shared import tracing

class Collector(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(listener.getsockname(), Collector, bind_and_activate=False)
server.socket.close()
server.socket = listener
threading.Thread(target=server.serve_forever, daemon=True).start()

class Context:
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

def timed(action):
    start = time.perf_counter()
    result = action()
    return (time.perf_counter() - start) * 1000, result

def one_span():
    with pipeline.span(Context()):
        pass
    return pipeline.processor.force_flush()

start, pipeline = timed(lambda: tracing._pipeline(app.tracer.instrument))
first, first_ok = timed(one_span)
warm, warm_ok = timed(one_span)
print(json.dumps({"start": start, "first": first, "warm": warm, "ok": first_ok and warm_ok}))
"""
TRACED_LOCALLY = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}  # for Init only its presence counts
HOST_ONLY = (*PASSED_THROUGH, "PYTHONPATH", "LAMBDA_TASK_ROOT")  # the image sets its own


def python(fn: Function, env_file: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`python3 *args` as the function's runtime: in its image (`env_file`) or with host mode's environment."""
    if env_file is not None:
        command = [
            "docker", "run", "--rm", "--read-only", "--user", "993:990", "--env-file", str(env_file),
            "-e", "PYTHONPATH=/var/runtime", "--entrypoint", "python3", "-w", "/var/task",
            f"{fn.directory}:local", *args,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
    else:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT / "functions" / fn.directory,
            env=traced(function_env(fn)),
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise SystemExit(f"{fn.directory}: the probe failed:\n{result.stderr[-1500:]}")
    return result


def traced(env: dict[str, str]) -> dict[str, str]:
    """The function's environment with tracing on, as the local stack runs it (an endpoint it sets)."""
    if any(env.get(name) for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")):
        return env
    return env | TRACED_LOCALLY


def importtime(fn: Function, env_file: Path | None) -> str:
    """stderr of one `-X importtime` run of the runtime client and the function's module."""
    return python(fn, env_file, "-X", "importtime", "-c", PROBE).stderr


def first_invocation(fn: Function, env_file: Path | None) -> dict[str, float]:
    """What tracing adds to the first invocation (ms): start, first export, warm export."""
    measured: dict[str, float] = json.loads(python(fn, env_file, "-c", TRACED_PROBE).stdout.strip().splitlines()[-1])
    if not measured.pop("ok"):
        raise SystemExit(f"{fn.directory}: the probe's spans were not exported")
    return measured


def by_package(stderr: str) -> tuple[float, dict[str, float]]:
    """The import's total (ms) and each top-level package's own time (ms)."""
    own: dict[str, float] = defaultdict(float)
    total = 0.0
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match:
            ms = int(match[1]) / 1000
            own[match[2].split(".")[0]] += ms
            total += ms
    return total, own


def env_file_for(fn: Function, folder: Path) -> Path:
    """The function's environment as compose gives it (its values do not matter to imports but for
    the ones that decide what is imported, e.g. the OTLP endpoint that turns tracing on)."""
    path = folder / f"{fn.directory}.env"
    env = traced(function_env(fn))
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items() if k not in HOST_ONLY))
    return path


def main() -> None:
    chosen = [fn for fn in functions() if os.environ.get("FUNCTION") in (None, "", fn.directory)]
    if not chosen:
        raise SystemExit(f"FUNCTION={os.environ['FUNCTION']}: no such function folder")
    in_images = stack.mode() == "docker"
    where = "in each function's image" if in_images else "with the host-mode virtualenv"
    if in_images:
        print("==> building the function images (compose's build cache makes this quick when nothing changed)")
        compose("build", "--quiet", *(fn.directory for fn in chosen))
    print(f"==> importing the runtime client and app {RUNS} times per function, {where}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for fn in chosen:
            env_file = env_file_for(fn, Path(folder)) if in_images else None
            runs = [by_package(importtime(fn, env_file)) for _ in range(RUNS)]
            packages = {name for _, own in runs for name in own}
            median_own = {name: statistics.median(own.get(name, 0.0) for _, own in runs) for name in packages}
            top = sorted(median_own.items(), key=lambda item: -item[1])[:TOP]
            firsts = [first_invocation(fn, env_file) for _ in range(RUNS)]
            first = {key: statistics.median(run[key] for run in firsts) for key in ("start", "first", "warm")}
            rows.append((fn.directory, statistics.median(total for total, _ in runs), top, first))
    print(f"\nImport cost at Init (median of {RUNS}, ms), {where}, traced as locally")
    for name, total, top, _ in rows:
        print(f"{name:<22} {total:6.1f}  " + ", ".join(f"{package} {ms:.0f}" for package, ms in top))
    print(f"\nWhat tracing adds to the first invocation (median of {RUNS}, ms): starting OpenTelemetry, the first")
    print("export of a span (exporter imported, a connection made) and, for comparison, a warm one")
    print(f"{'':<22} {'start':>6} {'first export':>13} {'warm export':>12} {'first total':>12}")
    for name, _, _, first in rows:
        total = first["start"] + first["first"]
        print(f"{name:<22} {first['start']:6.1f} {first['first']:13.1f} {first['warm']:12.1f} {total:12.1f}")


if __name__ == "__main__":
    main()
