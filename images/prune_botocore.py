"""Build step: keep only the botocore data of the AWS services a function's role may call.

usage: python prune_botocore.py <botocore data folder> [service ...]   (no service: keep everything)

Removes the other service model folders (about 450, 27 MB, which botocore lists on the first client of
each kind) and the other services' entries of endpoints.json (1.2 MB that every cold start parses, about
10 to 20 ms; the kept services' entries and each partition's defaults stay as they were).
"""

import gzip
import json
import shutil
import sys
from pathlib import Path


def endpoint_prefixes(model_folder: Path) -> set[str]:
    """The endpointPrefix of every API version of one service (endpoints.json is keyed by it)."""
    prefixes = set()
    for model in model_folder.glob("*/service-2.json*"):
        raw = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
        prefixes.add(json.loads(raw)["metadata"]["endpointPrefix"])
    return prefixes


def prune(data: Path, services: list[str]) -> None:
    missing = [name for name in services if not (data / name).is_dir()]
    if missing:
        raise SystemExit(f"AWS_SERVICES: botocore has no model {', '.join(repr(name) for name in missing)}")
    for folder in data.iterdir():
        if folder.is_dir() and folder.name not in services:
            shutil.rmtree(folder)
    keep = set().union(*(endpoint_prefixes(data / name) for name in services))
    endpoints_file = data / "endpoints.json"
    endpoints = json.loads(endpoints_file.read_text())
    for partition in endpoints["partitions"]:
        partition["services"] = {name: spec for name, spec in partition["services"].items() if name in keep}
    endpoints_file.write_text(json.dumps(endpoints, separators=(",", ":")))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    if len(sys.argv) > 2:
        prune(Path(sys.argv[1]), sys.argv[2:])
