"""images/prune_botocore.py on a copy of the installed botocore's data: what stays, what goes, and that
a client of a kept service resolves its endpoint exactly as with the full data."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import botocore
import botocore.session
import pytest
from botocore.loaders import Loader

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(botocore.__file__).parent / "data"
KEPT = ["dynamodb", "s3", "sns"]
COPIED = {*KEPT, "lambda", "kinesis"}  # and every top-level file


@pytest.fixture(scope="module")
def pruned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("botocore") / "data"
    shutil.copytree(
        DATA,
        data,
        ignore=lambda folder, names: [
            n for n in names if Path(folder) == DATA and (DATA / n).is_dir() and n not in COPIED
        ],
    )
    subprocess.run([sys.executable, ROOT / "images" / "prune_botocore.py", data, *KEPT], check=True)
    return data


def test_only_the_kept_services_models_remain(pruned: Path) -> None:
    assert sorted(entry.name for entry in pruned.iterdir() if entry.is_dir()) == KEPT
    assert (pruned / "partitions.json").is_file() and (pruned / "_retry.json").is_file()


def test_endpoints_keep_every_partition_with_its_defaults_and_only_the_kept_services(pruned: Path) -> None:
    full = json.loads((DATA / "endpoints.json").read_text())
    small = json.loads((pruned / "endpoints.json").read_text())
    assert [p["partition"] for p in small["partitions"]] == [p["partition"] for p in full["partitions"]]
    for before, after in zip(full["partitions"], small["partitions"], strict=True):
        assert {k: v for k, v in after.items() if k != "services"} == {
            k: v for k, v in before.items() if k != "services"
        }
        assert after["services"] == {k: v for k, v in before["services"].items() if k in KEPT}
    assert "dynamodb" in small["partitions"][0]["services"] and "lambda" not in small["partitions"][0]["services"]
    assert (pruned / "endpoints.json").stat().st_size < (DATA / "endpoints.json").stat().st_size / 10


@pytest.mark.parametrize("service", KEPT)
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"])
def test_a_kept_service_resolves_its_endpoint_as_with_the_full_data(pruned: Path, service: str, region: str) -> None:
    def resolved(data_path: Path | None) -> tuple[str, str, str, str]:
        session = botocore.session.get_session()
        if data_path is not None:  # this folder's data only
            session.register_component(
                "data_loader", Loader(extra_search_paths=[str(data_path)], include_default_search_paths=False)
            )
        client = session.create_client(service, region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
        signer = client._request_signer
        return client.meta.endpoint_url, signer.region_name, signer.signing_name, signer.signature_version

    assert resolved(pruned) == resolved(None)


def test_an_unknown_service_is_refused_by_name(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, ROOT / "images" / "prune_botocore.py", DATA, "s3", "not-a-service"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "botocore has no model 'not-a-service'" in result.stderr
    assert (DATA / "lambda").is_dir(), "nothing is removed when a name is wrong"
