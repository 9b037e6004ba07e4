"""images/prune_botocore.py on a copy of the installed botocore's data: what stays, what goes, and that
a request of a kept service goes to the same URL, signed for the same scope, as with the full data."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.session
import pytest
from botocore.loaders import Loader

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(botocore.__file__).parent / "data"
# dynamodbstreams: its endpoints.json key (streams.dynamodb) is not its folder's name.
KEPT = ["dynamodb", "dynamodbstreams", "s3", "sns"]
COPIED = {*KEPT, "lambda", "kinesis"}  # and every top-level file
# One cheap call per kept service, stopped before it is sent.
CALLS = {"dynamodb": "list_tables", "dynamodbstreams": "list_streams", "s3": "list_buckets", "sns": "list_topics"}


def copy_data(target: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if Path(folder) == DATA and (DATA / n).is_dir() and n not in COPIED]

    shutil.copytree(DATA, target, ignore=ignore)
    return target


def prune(data: Path, *services: str) -> subprocess.CompletedProcess[str]:
    script = ROOT / "images" / "prune_botocore.py"
    return subprocess.run([sys.executable, script, data, *services], capture_output=True, text=True)


@pytest.fixture(scope="module")
def pruned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = copy_data(tmp_path_factory.mktemp("botocore") / "data")
    assert prune(data, *KEPT).returncode == 0
    return data


def endpoint_keys(services: list[str]) -> set[str]:
    session = botocore.session.get_session()
    return {session.get_service_model(name).endpoint_prefix for name in services}


def test_only_the_kept_services_models_remain(pruned: Path) -> None:
    assert sorted(entry.name for entry in pruned.iterdir() if entry.is_dir()) == KEPT
    assert (pruned / "partitions.json").is_file() and (pruned / "_retry.json").is_file()


def test_endpoints_keep_every_partition_with_its_defaults_and_only_the_kept_services(pruned: Path) -> None:
    full = json.loads((DATA / "endpoints.json").read_text())
    small = json.loads((pruned / "endpoints.json").read_text())
    keys = endpoint_keys(KEPT)
    assert "streams.dynamodb" in keys
    assert [p["partition"] for p in small["partitions"]] == [p["partition"] for p in full["partitions"]]
    for before, after in zip(full["partitions"], small["partitions"], strict=True):
        assert {k: v for k, v in after.items() if k != "services"} == {
            k: v for k, v in before.items() if k != "services"
        }
        assert after["services"] == {k: v for k, v in before["services"].items() if k in keys}
    assert "streams.dynamodb" in small["partitions"][0]["services"]
    assert "lambda" not in small["partitions"][0]["services"]
    assert (pruned / "endpoints.json").stat().st_size < (DATA / "endpoints.json").stat().st_size / 10


class Sent(Exception):
    """Raised in place of sending a request, once it is signed."""


@pytest.mark.parametrize("service", KEPT)
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"])
def test_a_kept_service_sends_to_the_same_url_signed_for_the_same_scope(
    pruned: Path, service: str, region: str
) -> None:
    def sent(data_path: Path | None) -> tuple[str, str]:
        session = botocore.session.get_session()
        if data_path is not None:  # this folder's data only, taken as botocore's own (as in the image)
            loader = Loader(extra_search_paths=[str(data_path)], include_default_search_paths=False)
            loader.is_builtin_path = lambda path: True  # type: ignore[method-assign]
            session.register_component("data_loader", loader)
        client = session.create_client(service, region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
        seen: dict[str, Any] = {}

        def stop(request: Any, **kwargs: Any) -> None:
            seen["url"] = request.url
            seen["scope"] = request.headers["Authorization"].decode().split("Credential=a/")[1].split(",")[0]
            raise Sent

        client.meta.events.register("before-send", stop)
        with pytest.raises(Sent):
            getattr(client, CALLS[service])()
        return seen["url"], seen["scope"].split("/", 1)[1]  # the date dropped

    assert sent(pruned) == sent(None)


def test_an_unknown_service_is_refused_by_name_and_nothing_is_removed(tmp_path: Path) -> None:
    data = copy_data(tmp_path / "data")
    result = prune(data, "s3", "not-a-service")
    assert result.returncode != 0
    assert "botocore has no model 'not-a-service'" in result.stderr
    assert (data / "lambda").is_dir() and (data / "endpoints.json").read_bytes() == (
        DATA / "endpoints.json"
    ).read_bytes()


def test_no_service_named_keeps_everything(tmp_path: Path) -> None:
    data = copy_data(tmp_path / "data")
    assert prune(data).returncode == 0
    assert {entry.name for entry in data.iterdir() if entry.is_dir()} == COPIED
    assert (data / "endpoints.json").read_bytes() == (DATA / "endpoints.json").read_bytes()
