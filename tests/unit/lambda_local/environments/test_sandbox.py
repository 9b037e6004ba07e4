"""Docker mode's containers run the plane's runtime shim on the image's own Python and runtime client, as
compose.yaml's services do: the same entrypoint, the shim mounted read only from the project on the
engine's host; and the shim, run as a file in an image, sets up what the image's bootstrap would."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lambda_local.environments import runtime_shim
from lambda_local.environments.runtime_shim import in_the_image
from lambda_local.environments.sandbox import ENTRYPOINT, SHIM, SHIM_SOURCE, SYSLOG_ADDRESS, run_kwargs, sandbox
from lambda_local.providers import load

TEMPLATE = load()
SHIM_FILE = Path(runtime_shim.__file__)


def test_a_started_environment_runs_the_shim_mounted_from_the_project() -> None:
    box = sandbox(TEMPLATE, TEMPLATE.function("imageResize"))
    kwargs = run_kwargs(box, {}, "env-1", "net", "tag", {}, "/home/me/project/")
    assert kwargs["entrypoint"] == ENTRYPOINT and kwargs["command"] == [box.command[0]]
    assert kwargs["volumes"] == {f"/home/me/project/{SHIM_SOURCE}": {"bind": SHIM, "mode": "ro"}}
    assert kwargs["read_only"] is True
    plain = run_kwargs(box, {}, "env-1", "net", "tag", {})  # where the project is unknown: the image's runtime
    assert "entrypoint" not in plain and "volumes" not in plain


def test_a_plane_of_another_name_gives_its_containers_its_endpoint_and_syslog_port() -> None:
    box = sandbox(TEMPLATE, TEMPLATE.function("imageResize"), "http://lambda-probe:3001", "udp://127.0.0.1:3614")
    kwargs = run_kwargs(box, {}, "env-1", "net", "tag", {})
    assert kwargs["environment"]["AWS_ENDPOINT_URL_LAMBDA"] == "http://lambda-probe:3001"
    assert kwargs["environment"]["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].startswith("http://lambda-probe:3001/")
    assert kwargs["log_config"]["Config"]["syslog-address"] == "udp://127.0.0.1:3614"
    stack = run_kwargs(sandbox(TEMPLATE, TEMPLATE.function("imageResize")), {}, "env-1", "net", "tag", {})
    assert stack["log_config"]["Config"]["syslog-address"] == SYSLOG_ADDRESS  # compose.yaml's `lambda`


def test_the_shim_run_in_an_image_puts_the_task_root_first_and_the_runtime_after_it() -> None:
    path = ["/lambda-local", "/var/lang/lib/python313.zip", "/var/lang/lib/python3.13/site-packages"]
    env = {"LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime"}
    in_the_image(path, env)
    assert path[:2] == ["/var/task", "/var/runtime"] and "/lambda-local" not in path
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_python{version}"  # what the image's bootstrap exports
    kept = {"LAMBDA_TASK_ROOT": "/var/task", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"}
    in_the_image(["/x"], kept)
    assert kept["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"


def test_the_shim_run_as_a_file_gives_the_handler_the_planes_request_id_and_trace(tmp_path: Path) -> None:
    """Against a runtime API standing for the RIE's: the next invocation carries the plane's part of the
    client context; the handler (imported from the task root) sees the plane's id and trace header, and
    the RIE gets its own id back with the result."""
    (tmp_path / "probe.py").write_text(
        "import os\n\ndef handler(event, context):\n"
        "    return {'id': context.aws_request_id, 'trace': os.environ.get('_X_AMZN_TRACE_ID')}\n"
    )
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    context = json.dumps({"custom": {"lambda-local": {"requestId": "plane-id", "traceId": trace}}})
    answered: queue.Queue[tuple[str, bytes]] = queue.Queue()
    served = threading.Event()

    class RuntimeApi(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if served.is_set():  # one invocation; the runtime then waits for the next
                time.sleep(30)
                return
            served.set()
            self.send_response(200)
            for key, value in (
                ("Lambda-Runtime-Aws-Request-Id", "rie-id"),
                ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60_000)),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:probe"),
                ("Lambda-Runtime-Client-Context", context),
                ("Content-Type", "application/json"),
                ("Content-Length", "2"),
            ):
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(b"{}")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answered.put((self.path, body))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}",
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
    }
    runtime = subprocess.Popen([sys.executable, str(SHIM_FILE), "probe.handler"], cwd="/", env=env)
    try:
        path, body = answered.get(timeout=30)
    finally:
        runtime.kill()
        runtime.wait()
        server.shutdown()
    assert path == "/2018-06-01/runtime/invocation/rie-id/response"  # the RIE's own id, back to the RIE
    assert json.loads(body) == {"id": "plane-id", "trace": trace}
