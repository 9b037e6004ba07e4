"""`make bench-events` (second part): stream throughput through the local plane's event source
mapping: records pre-loaded into a Kinesis stream on the local endpoint, read by a plane serving the
probe template, delivered in batches of 100 to a no-op function through its RIE, at
ParallelizationFactor 1 and 4. Measured from the plane's start to the checkpoint reaching the last
record (reads, event building, invokes, checkpoints).
"""

import statistics
import tempfile
import time
from pathlib import Path

import yaml

import stack
from lambda_local.providers import load_yaml
from stack import moto
from tests.support.probe_plane import TEMPLATE, ProbePlane

RECORDS = 20_000
RUNS = 2
FACTORS = (1, 4)


def template_with_factor(folder: Path, factor: int) -> Path:
    """The probe template with the bench consumer's ParallelizationFactor set (its functions where they are)."""
    data = load_yaml(TEMPLATE)
    data["Metadata"]["FunctionsFolder"] = str(TEMPLATE.parent / "functions")
    data["Resources"]["BenchConsumer"]["Properties"]["Events"]["Bench"]["Properties"]["ParallelizationFactor"] = factor
    path = folder / "template.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def one_run(kinesis: object, factor: int) -> tuple[float, int]:
    """Seconds from the plane's start until the last record is settled, and the invocations it took."""
    with tempfile.TemporaryDirectory() as state:
        plane = ProbePlane(Path(state), template_with_factor(Path(state), factor))
        plane.create_resources()
        stream = plane.names["BenchStream"]
        last = ""
        for start in range(0, RECORDS, 500):
            records = [{"Data": b"x" * 200, "PartitionKey": str(i)} for i in range(start, start + 500)]
            last = kinesis.put_records(StreamName=stream, Records=records)["Records"][-1]["SequenceNumber"]  # type: ignore[attr-defined]
        plane.start()
        started = time.perf_counter()
        try:
            while last not in plane.checkpoint("probeNoop-Bench").values():
                if time.perf_counter() - started > 300:
                    raise SystemExit(f"the stream was not consumed in 300 s:\n{plane.log()[-2000:]}")
                time.sleep(0.01)
            return time.perf_counter() - started, len(plane.deliveries("probeNoop"))
        finally:
            plane.stop()


def main() -> None:
    if not stack.stack_is_up():
        raise SystemExit("the stack is not up: run `make up`")
    kinesis = moto.client("kinesis")
    print(f"stream throughput: {RECORDS:,} Kinesis records (200 bytes each), batch size 100, no-op consumer")
    medians = {}
    for factor in FACTORS:
        rates = []
        for run in range(RUNS):
            elapsed, invocations = one_run(kinesis, factor)
            rates.append(RECORDS / elapsed)
            print(
                f"  ParallelizationFactor {factor}, run {run + 1}: {elapsed:6.2f} s, "
                f"{RECORDS / elapsed:8,.0f} records/s, {invocations} invocations"
            )
        medians[factor] = statistics.median(rates)
    print("\n| ParallelizationFactor | records/s (median of runs) |\n|---|---|")
    for factor, rate in medians.items():
        print(f"| {factor} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
