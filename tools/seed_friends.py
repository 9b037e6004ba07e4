"""`make seed-friends USER_ID=alice FRIENDS=1000`: a user's friends and their phones, as the mobile backend
would have registered them: one SNS platform endpoint per device (some friends have two), a share of
them disabled (uninstalled apps), rows in the `friends` and `devices` tables.

    python -m tools.seed_friends --user alice --friends 1000 [--disabled 0.05] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass

from lambda_local.providers import load
from lambda_local.settings import API_PORT
from stack import moto


@dataclass(frozen=True)
class Device:
    user_id: str
    token: str
    enabled: bool


def social_graph(user: str, friends: int, disabled: float, seed: int) -> tuple[list[str], list[Device]]:
    """`user`'s friends and their devices (1 or 2 each), `disabled` of them disabled; reproducible."""
    rng = random.Random(seed)  # noqa: S311 - test data
    names = [f"{user}-friend-{i:05d}" for i in range(friends)]
    devices = [
        Device(name, f"token-{name}-{n}-{rng.getrandbits(64):016x}", rng.random() >= disabled)
        for name in names
        for n in range(1 if rng.random() < 0.8 else 2)
    ]
    return names, devices


def application_arn() -> str:
    name = str(load().parameter("PushApplicationName"))
    applications = moto.client("sns").list_platform_applications()["PlatformApplications"]
    for application in applications:
        if application["PlatformApplicationArn"].endswith(f"/{name}"):
            return str(application["PlatformApplicationArn"])
    raise SystemExit(f"no SNS platform application {name}: run `make up` (the bootstrap creates it)")


def seed(user: str, friends: list[str], devices: list[Device]) -> dict[str, list[str]]:
    """Register the endpoints and write the tables; returns user -> endpoint ARNs."""
    sns = moto.client("sns")
    application = application_arn()
    endpoints: dict[str, list[str]] = {}
    for device in devices:
        arn = sns.create_platform_endpoint(PlatformApplicationArn=application, Token=device.token)["EndpointArn"]
        if not device.enabled:
            sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
        endpoints.setdefault(device.user_id, []).append(arn)
    names = load().names
    dynamodb = moto.resource("dynamodb")
    with dynamodb.Table(names["FriendsTable"]).batch_writer() as batch:
        for friend in friends:
            batch.put_item(Item={"user_id": user, "friend_id": friend})
    with dynamodb.Table(names["DevicesTable"]).batch_writer() as batch:
        for friend, arns in endpoints.items():
            batch.put_item(Item={"user_id": friend, "endpoints": set(arns)})
    return endpoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="alice")
    parser.add_argument("--friends", type=int, default=1000)
    parser.add_argument("--disabled", type=float, default=0.05, help="share of devices with a disabled endpoint")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.friends < 0 or not 0 <= args.disabled <= 1:
        raise SystemExit("--friends must be >= 0 and --disabled between 0 and 1")
    started = time.perf_counter()
    friends, devices = social_graph(args.user, args.friends, args.disabled, args.seed)
    seed(args.user, friends, devices)
    off = sum(not d.enabled for d in devices)
    token = f"$(make -s token SUB={args.user})"
    print(
        f"{args.user}: {len(friends)} friends, {len(devices)} devices ({off} disabled) in "
        f"{time.perf_counter() - started:.1f} s; post a status with:\n"
        f'  curl -XPOST localhost:{API_PORT}/status -H "Authorization: Bearer {token}" -d \'{{"text": "hello"}}\''
    )


if __name__ == "__main__":
    main()
