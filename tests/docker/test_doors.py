"""Docker mode: a function gets what it gets in AWS (the Lambda API, the AWS endpoint), never the plane's
control endpoints; the plane tells a function's container from the host's tools by where it comes from."""

import json
import subprocess

from stack import ROOT

CALL = """
import json, sys, urllib.error, urllib.request
url, body = sys.argv[1], sys.argv[2].encode()
request = urllib.request.Request(url, data=body, method="POST", headers={"Host": sys.argv[3]})
try:
    with urllib.request.urlopen(request, timeout=60) as answer:
        print(json.dumps([answer.status, answer.read().decode()]))
except urllib.error.HTTPError as refused:
    print(json.dumps([refused.code, refused.read().decode()]))
"""


def from_function(path: str, body: object, host: str = "lambda:3001") -> tuple[int, str]:
    """POST `body` to the plane's `path` from inside the weather function's container."""
    run = subprocess.run(
        ["docker", "compose", "exec", "-T", "weather-api", "python3", "-c", CALL]
        + [f"http://lambda:3001{path}", json.dumps(body), host],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    status, text = json.loads(run.stdout)
    return int(status), str(text)


def test_a_function_cannot_mint_tokens_debug_restart_or_fire() -> None:
    for path, body in [
        ("/_local/token", {"claims": {"sub": "mallory"}}),
        ("/_local/functions/salesAnalysisReport/debug", {"on": True}),
        ("/_local/functions/salesAnalysisReport/restart", {}),
        ("/_local/schedules/salesAnalysisReportDailySchedule/fire", {}),
    ]:
        for host in ("lambda:3001", "127.0.0.1:3001"):  # a container can send any Host
            status, text = from_function(path, body, host)
            assert status == 403 and "user's tools only" in text, (path, host, status, text)


def test_a_function_still_invokes_another_as_in_aws() -> None:
    status, text = from_function("/2015-03-31/functions/weatherApi/invocations", {"rawPath": "/nowhere"})
    assert status == 200, text
