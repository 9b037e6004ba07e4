"""statusFanout through its real trigger: POST /status on the local REST API (payload 1.0, Cognito
authorizer) stores the status and pushes it to every friend's enabled devices through SNS mobile push."""

import json
import time
import urllib.error
import urllib.request

import pytest

from lambda_local.providers import load
from stack import moto
from tests.support.tokens import plane_token
from tools.seed_friends import seed, social_graph

pytestmark = pytest.mark.integration
API = "http://127.0.0.1:3000"
NAMES = load().names


def post(body: bytes, user: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers["Authorization"] = "Bearer " + plane_token({"sub": user})
    request = urllib.request.Request(f"{API}/status", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def endpoint_messages() -> dict[str, str]:
    """endpoint ARN -> everything SNS delivered to it (moto's record of it)."""
    return {e["arn"]: str(e["messages"]) for e in moto.state()["sns"].get("PlatformEndpoint", [])}


def test_a_status_reaches_every_enabled_device_of_every_friend() -> None:
    user = f"fan-{time.time_ns()}"
    friends, devices = social_graph(user, 60, disabled=0.15, seed=3)
    endpoints = seed(user, friends, devices)
    by_token = dict(zip([d.token for d in devices], [d.enabled for d in devices], strict=True))
    enabled = sum(by_token.values())
    assert 0 < enabled < len(devices), "the graph has both enabled and disabled devices"

    status, body = post(json.dumps({"text": "Fresh croissants at the café!"}).encode(), user)

    assert status == 202
    assert body["friends"] == 60
    assert (body["notified"], body["skipped_disabled"], body["failed"]) == (enabled, len(devices) - enabled, 0)
    stored = moto.client("dynamodb").query(
        TableName=NAMES["StatusesTable"],
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": user}},
    )["Items"]
    assert [(i["status_id"]["S"], i["text"]["S"]) for i in stored] == [
        (body["status_id"], "Fresh croissants at the café!")
    ]
    delivered = endpoint_messages()
    arns = [arn for friend_arns in endpoints.values() for arn in friend_arns]
    reached = {arn for arn in arns if body["status_id"] in delivered[arn]}
    assert len(reached) == enabled  # every enabled device once told, no disabled one


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"not json", 400, "not JSON"),
        (b'{"text": ""}', 400, "text is empty"),
        (b'{"text": "hi", "mood": "happy"}', 400, "unknown field"),
        (b'{"text": 42}', 400, "text must be a string"),
        (json.dumps({"text": "x" * 501}).encode(), 400, "the limit is 500"),
        (json.dumps({"text": "x" * 5000}).encode(), 413, "the limit is 4,096"),
    ],
)
def test_bad_bodies_are_refused_with_what_is_wrong(body: bytes, status: int, says: str) -> None:
    answer_status, answer = post(body, "alice")
    assert answer_status == status
    assert says in answer["message"]


def test_no_token_no_status() -> None:
    assert post(b'{"text": "hi"}', None) == (401, {"message": "Unauthorized"})


def test_the_callers_token_never_reaches_the_functions_log() -> None:
    import stack

    token = plane_token({"sub": f"logged-{time.time_ns()}"})
    request = urllib.request.Request(
        f"{API}/status",
        data=b'{"text": "hello"}',
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 202
    log = stack.read_logs("status-fanout")
    assert '"path":"/status"' in log.replace(" ", "") or "/status" in log  # the event was logged (locally)
    assert token not in log and token.split(".")[2] not in log


def test_make_token_signs_with_this_stacks_key_and_a_token_signed_otherwise_is_refused() -> None:
    import subprocess
    import sys

    import jwt

    from stack import ROOT

    made = subprocess.run(
        [sys.executable, "-m", "tools.stack", "token", "maker", '{"email": "m@example.com"}'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    forged = jwt.encode(
        jwt.decode(made, options={"verify_signature": False}),
        "another stack's key, as long as the real one",
        algorithm="HS256",
    )
    codes = []
    for token in (made, forged):
        request = urllib.request.Request(
            f"{API}/status",
            data=b'{"text": "signed"}',
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                codes.append(response.status)
        except urllib.error.HTTPError as error:
            codes.append(error.code)
    assert codes == [202, 401]
