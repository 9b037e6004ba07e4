"""DynamoDB Streams and Kinesis triggers: Lambda's event source mapping, locally.

One poller per shard reads the stream on the local AWS endpoint (moto), in order, and invokes the
function synchronously with batches, as the mapping in the account does:

- a batch is sent when it holds `BatchSize` records, when `MaximumBatchingWindowInSeconds` has passed
  since its first record, or when it would pass the 6 MB invoke payload limit;
- a failed batch blocks its shard and is retried (after back-off) until it succeeds, its retries
  (`MaximumRetryAttempts`, -1 = until the records expire) are used up or its records are older than
  `MaximumRecordAgeInSeconds`; then its shard and sequence range go to the on-failure destination
  and the shard moves on;
- with `FunctionResponseTypes: [ReportBatchItemFailures]` the function may answer
  `{"batchItemFailures": [{"itemIdentifier": "<sequence number>"}]}`: the records before the lowest
  failed one are done and the retry starts from it. An empty or null list is a success; a null,
  empty, unknown or misnamed identifier fails the whole batch;
- with `BisectBatchOnFunctionError` a failed batch is split in two and each half retried, without
  using up retries, down to single records.

No record can stop a shard: filtering (FilterCriteria) runs in a worker thread, a record that cannot be
built or filtered goes alone to the on-failure destination (condition `MalformedEvent`, as the trigger
queues' messages do: queue_sources.py) and the checkpoint moves past it, and the reader, the lanes and
the loop that sorts records into them report an unexpected error and go on after a back-off.

The position reached in each shard (the last record settled) is saved under `.stack/checkpoints/`
after every batch, so a restart neither loses records nor replays settled ones beyond the batch in
flight (at-least-once, as in AWS). moto never closes or splits shards: shard lineage is not followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import time
import zlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from lambda_local.environments.instance import InvokeResult
from lambda_local.environments.pool import FunctionRuntime
from lambda_local.events.destinations import stream_failure_record
from lambda_local.events.streams import dynamodb_record, kinesis_record
from lambda_local.logs import LOG
from lambda_local.providers import FunctionSpec, MappingSettings, StreamTrigger
from lambda_local.providers.filters import triage
from lambda_local.settings import SYNC_PAYLOAD_LIMIT
from lambda_local.sources.batch_failures import reported_failures
from lambda_local.traces import recorder

POLL_INTERVAL_S = 0.25  # an idle shard is read this often: about 4 times a second, as AWS reads DynamoDB streams
READ_AHEAD = 1000  # records per GetRecords call; reading runs ahead of the invocations by a few calls
READ_AHEAD_CHUNKS = 4
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)  # back-off between attempts of a failed batch (AWS: exponential)
SETTLED_FROM_START = "TRIM_HORIZON"  # checkpoint of a shard whose records are all still to come
MALFORMED = "MalformedEvent"  # the on-failure condition of a record that cannot be built or filtered

Send = Callable[[dict[str, Any]], Awaitable[None]]
Report = Callable[..., None]


@dataclass(frozen=True)
class StreamRecord:
    sequence: str
    arrival: float  # epoch seconds
    event_record: dict[str, Any]
    size: int  # bytes of the record in the event's JSON
    problem: str | None = None  # why the record cannot be handed over: it goes to the on-failure destination

    @property
    def key(self) -> str:
        """What Lambda keeps in order: the partition key (Kinesis) or the item's key (DynamoDB)."""
        try:
            if "kinesis" in self.event_record:
                return str(self.event_record["kinesis"]["partitionKey"])
            return json.dumps(self.event_record.get("dynamodb", {}).get("Keys", {}), sort_keys=True)
        except Exception:  # no key to keep in order with: any lane will do
            return ""


class ShardProgress:
    """Which of a shard's records are settled. With ParallelizationFactor > 1 batches of one shard settle
    out of read order; the checkpoint only moves past records that are all settled, so a plane killed
    at any moment resumes with nothing skipped (records settled beyond it run again: at-least-once)."""

    def __init__(self, checkpoints: Checkpoints, shard: str) -> None:
        self.checkpoints = checkpoints
        self.shard = shard
        self.pending: deque[str] = deque()  # read, in order, from the first unsettled one
        self.settled: set[str] = set()

    def read(self, records: list[StreamRecord]) -> None:
        self.pending.extend(record.sequence for record in records)

    def done(self, records: list[StreamRecord]) -> None:
        self.settled.update(record.sequence for record in records)
        last = None
        while self.pending and self.pending[0] in self.settled:
            last = self.pending.popleft()
            self.settled.discard(last)
        if last is not None:
            self.checkpoints.save(self.shard, last)


def first_failure(payload: bytes, sequences: list[str]) -> int | None:
    """Where a batch's retry starts, from the function's `ReportBatchItemFailures` answer: None when
    the whole batch succeeded, else the index of the lowest failed record (0 = the whole batch)."""
    failed = reported_failures(payload, sequences)
    if failed is None:
        return 0
    if not failed:
        return None
    positions = {sequence: index for index, sequence in enumerate(sequences)}
    return min(positions[sequence] for sequence in failed)


class StreamSource(ABC):
    """One stream on the local AWS endpoint: its shards and their records."""

    kind: str  # "dynamodb" | "kinesis": the event source and the on-failure record's key

    def __init__(self, client: Any, arn: str, identity: str) -> None:
        self.client = client
        self.arn = arn
        self.identity = identity  # changes when the stream is recreated (checkpoints then start over)

    @abstractmethod
    def shards(self) -> list[str]: ...

    @abstractmethod
    def iterator(self, shard: str, position: str, sequence: str | None = None, at: float | None = None) -> str: ...

    @abstractmethod
    def read(self, shard: str, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None]: ...


def _record(event_record: dict[str, Any], sequence: str, arrival: float) -> StreamRecord:
    return StreamRecord(sequence, arrival, event_record, len(json.dumps(event_record)) + 2)


def _built(
    build: Callable[[dict[str, Any]], StreamRecord], raw: dict[str, Any], sequence: Callable[[dict[str, Any]], Any]
) -> StreamRecord | None:
    """The record `build` makes of `raw`; when that fails, one that says why (it goes to the on-failure
    destination by its sequence number); None, reported, when the record has no sequence number to
    checkpoint past (reading goes on after the records around it)."""
    try:
        number = sequence(raw)
    except Exception:
        number = None
    if not isinstance(number, str) or not number:
        LOG.info(f"a stream record with no sequence number skipped: {repr(raw)[:200]}")
        return None
    try:
        return build(raw)
    except Exception as exc:
        return StreamRecord(number, time.time(), {}, 2, f"{type(exc).__name__}: {exc}"[:1000])


class DynamoDBStream(StreamSource):
    kind = "dynamodb"
    read_limit = 1000  # GetRecords' maximum for DynamoDB Streams

    def __init__(self, client: Any, arn: str, region: str) -> None:
        super().__init__(client, arn, arn)  # the stream label in the ARN is the table's creation time
        self.region = region

    def shards(self) -> list[str]:
        description = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def iterator(self, shard: str, position: str, sequence: str | None = None, at: float | None = None) -> str:
        extra = {"SequenceNumber": sequence} if sequence else {}
        answer = self.client.get_shard_iterator(StreamArn=self.arn, ShardId=shard, ShardIteratorType=position, **extra)
        return str(answer["ShardIterator"])

    def read(self, shard: str, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None]:
        answer = self.client.get_records(ShardIterator=iterator, Limit=min(limit, self.read_limit))
        built = (_built(self._record, raw, lambda raw: raw["dynamodb"]["SequenceNumber"]) for raw in answer["Records"])
        return [record for record in built if record is not None], answer.get("NextShardIterator")

    def _record(self, raw: dict[str, Any]) -> StreamRecord:
        event_record = dynamodb_record(raw, self.arn, self.region)
        created = raw["dynamodb"]["ApproximateCreationDateTime"]
        arrival = created.timestamp() if isinstance(created, datetime) else float(created)
        return _record(event_record, raw["dynamodb"]["SequenceNumber"], arrival)


class KinesisStream(StreamSource):
    kind = "kinesis"
    read_limit = 10000

    def __init__(self, client: Any, name: str, region: str, role_arn: str) -> None:
        summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        created = summary["StreamCreationTimestamp"]
        super().__init__(client, summary["StreamARN"], f"{summary['StreamARN']}@{created.timestamp()}")
        self.name = name
        self.region = region
        self.role_arn = role_arn

    def shards(self) -> list[str]:
        return [shard["ShardId"] for shard in self.client.list_shards(StreamName=self.name)["Shards"]]

    def iterator(self, shard: str, position: str, sequence: str | None = None, at: float | None = None) -> str:
        extra: dict[str, Any] = {"StartingSequenceNumber": sequence} if sequence else {}
        if at is not None:
            extra["Timestamp"] = datetime.fromtimestamp(at)
        answer = self.client.get_shard_iterator(
            StreamName=self.name, ShardId=shard, ShardIteratorType=position, **extra
        )
        return str(answer["ShardIterator"])

    def read(self, shard: str, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None]:
        answer = self.client.get_records(ShardIterator=iterator, Limit=min(limit, self.read_limit))
        build = partial(self._record, shard)
        built = (_built(build, raw, lambda raw: raw["SequenceNumber"]) for raw in answer["Records"])
        return [record for record in built if record is not None], answer.get("NextShardIterator")

    def _record(self, shard: str, raw: dict[str, Any]) -> StreamRecord:
        event_record = kinesis_record(raw, shard, self.arn, self.region, self.role_arn)
        return _record(event_record, raw["SequenceNumber"], raw["ApproximateArrivalTimestamp"].timestamp())


class CheckpointError(Exception):
    """A mapping's checkpoint file cannot be read: replaying the whole shard or skipping what it held
    would both be wrong, so the mapping stops and says which file."""


class Checkpoints:
    """The last settled sequence number of each shard of one mapping, in a JSON file replaced atomically
    (written, flushed to disk, then renamed over the old one)."""

    def __init__(self, path: Path, identity: str) -> None:
        self.path = path
        self.identity = identity
        self.shards: dict[str, str] = {}
        try:
            text = path.read_text()
        except FileNotFoundError:
            return
        try:
            saved = json.loads(text)
        except ValueError as exc:
            raise CheckpointError(f"{path}: not JSON ({exc}); move it away to start the mapping over") from None
        shards = saved.get("shards") if isinstance(saved, dict) else None
        if not isinstance(shards, dict) or not all(isinstance(v, str) for v in shards.values()):
            raise CheckpointError(f"{path}: not a checkpoint file; move it away to start the mapping over")
        if saved.get("stream") == identity:  # a recreated stream starts over
            self.shards = dict(shards)

    def save(self, shard: str, sequence: str) -> None:
        self.shards[shard] = sequence
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        with open(partial, "w", encoding="utf-8") as out:
            out.write(json.dumps({"stream": self.identity, "shards": self.shards}))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, self.path)


class ShardPoller:
    """Reads one shard in order; its records go to `ParallelizationFactor` lanes by key (one lane: the
    whole shard), and each lane settles its batches one after the other, so records of one key keep
    their order while up to that many batches of the shard run at once."""

    def __init__(self, mapping: StreamMapping, shard: str) -> None:
        self.mapping = mapping
        self.shard = shard
        self.settings = mapping.settings
        self.source = mapping.source
        self.last_read: str | None = None
        self.progress = ShardProgress(mapping.checkpoints, shard)
        mapping.progress[shard] = self.progress

    async def run(self) -> None:
        """Reading, sorting records into lanes, and each lane's batches, all at once."""
        chunks: asyncio.Queue[list[StreamRecord]] = asyncio.Queue(maxsize=READ_AHEAD_CHUNKS)
        factor = self.settings.parallelization
        lanes: list[asyncio.Queue[list[StreamRecord]]] = [
            asyncio.Queue(maxsize=READ_AHEAD_CHUNKS) for _ in range(factor)
        ]
        tasks = [asyncio.create_task(self._read(chunks))]
        tasks += [asyncio.create_task(self._lane(lane)) for lane in lanes]
        try:
            while True:
                chunk = await chunks.get()
                self.progress.read(chunk)
                for lane, records in zip(lanes, await self._sorted(chunk, factor), strict=True):
                    if records:
                        await lane.put(records)
        finally:
            for task in tasks:
                task.cancel()

    async def _sorted(self, chunk: list[StreamRecord], factor: int) -> list[list[StreamRecord]]:
        """The records of `chunk` to invoke with, filtered (before batching, as Lambda filters) and sorted
        into `factor` lanes by key. Whatever fails on the way is reported and tried again after a
        back-off: the chunk's records are read, so they must reach a lane or be settled."""
        attempt = 0
        while True:
            try:
                kept = await self._filtered(chunk)
                if factor == 1:
                    return [kept]
                lanes: list[list[StreamRecord]] = [[] for _ in range(factor)]
                for record in kept:
                    lanes[zlib.crc32(record.key.encode(errors="replace")) % factor].append(record)
                return lanes
            except Exception as exc:
                delay = min(30.0, 0.5 * 2**attempt)
                LOG.info(
                    f"{self.mapping.name} {self.shard}: filtering records failed ({exc!r}); again in {delay:.1f} s"
                )
                await asyncio.sleep(delay)
                attempt += 1

    async def _filtered(self, chunk: list[StreamRecord]) -> list[StreamRecord]:
        """The records a FilterCriteria pattern matches; the others are settled without an invocation. The
        filter runs in a worker thread; a record it fails on is kept with the reason as its problem (it
        goes to the on-failure destination: StreamMapping.settle)."""
        keep = self.mapping.keep
        if keep is None:
            return chunk
        kept, dropped, failed = await asyncio.to_thread(
            triage, chunk, lambda record: record.problem is not None or keep(record.event_record)
        )
        if dropped:
            self.mapping.filtered += len(dropped)
            self.progress.done(dropped)
            mapping = self.mapping
            mapping.report(
                mapping.source.kind, mapping.fn.lambda_name, "-", 0, 0.0, "filtered out", records=len(dropped)
            )
        if not failed:
            return kept
        problems = {id(record): f"filter: {reason}" for record, reason in failed}
        gone = {id(record) for record in dropped}
        return [
            dataclasses.replace(record, problem=problems[id(record)]) if id(record) in problems else record
            for record in chunk
            if id(record) not in gone
        ]

    async def _lane(self, chunks: asyncio.Queue[list[StreamRecord]]) -> None:
        """Batches from one lane's records, settled one after the other. An unexpected error is reported
        and the lane goes on after a back-off, its records kept."""
        buffer: list[StreamRecord] = []
        first_at = 0.0
        failures = 0
        while True:
            try:
                if len(buffer) < self.settings.batch_size:
                    wait = None if not buffer else self.settings.window_s - (time.monotonic() - first_at)
                    chunk: list[StreamRecord] = []
                    with contextlib.suppress(TimeoutError, asyncio.QueueEmpty):
                        chunk = (
                            await asyncio.wait_for(chunks.get(), wait)
                            if wait is None or wait > 0
                            else chunks.get_nowait()
                        )
                    if chunk and not buffer:
                        first_at = time.monotonic()
                    buffer += chunk
                if buffer and (self._full(buffer) or time.monotonic() - first_at >= self.settings.window_s):
                    batch = self._take(buffer)
                    del buffer[: len(batch)]
                    first_at = time.monotonic()
                    await self._settle(batch)
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** (failures - 1))
                LOG.info(f"{self.mapping.name} {self.shard}: a lane failed ({exc!r}); again in {delay:.1f} s")
                await asyncio.sleep(delay)

    async def _settle(self, batch: list[StreamRecord]) -> None:
        """Settle `batch`, whatever fails on the way (a destination away, a checkpoint write): the lane
        tries again with back-off, never dies; the batch runs again (at-least-once)."""
        for attempt in itertools.count():
            try:
                await self.mapping.settle(self.shard, batch)
                return
            except Exception as exc:
                delay = min(30.0, 0.5 * 2**attempt)
                LOG.info(f"{self.mapping.name} {self.shard}: settling a batch failed ({exc!r}); again in {delay:.1f} s")
                await asyncio.sleep(delay)

    async def _read(self, chunks: asyncio.Queue[list[StreamRecord]]) -> None:
        iterator: str | None = None
        while True:
            try:
                if iterator is None:
                    iterator = await asyncio.to_thread(self._iterator)
                records, iterator = await asyncio.to_thread(
                    self.source.read, self.shard, iterator, max(self.settings.batch_size, READ_AHEAD)
                )
            except Exception as exc:  # the endpoint restarts, or an iterator expired: start again from here
                LOG.info(f"reading {self.mapping.name} {self.shard} failed: {exc}")
                iterator = None
                await asyncio.sleep(2)
                continue
            if records:
                self.last_read = records[-1].sequence
                await chunks.put(records)
            else:
                await asyncio.sleep(POLL_INTERVAL_S)

    def _full(self, buffer: list[StreamRecord]) -> bool:
        return len(buffer) >= self.settings.batch_size or sum(r.size for r in buffer) >= SYNC_PAYLOAD_LIMIT

    def _take(self, buffer: list[StreamRecord]) -> list[StreamRecord]:
        batch: list[StreamRecord] = []
        size = 0
        for record in buffer[: self.settings.batch_size]:
            if batch and size + record.size > SYNC_PAYLOAD_LIMIT - 1024:
                break
            batch.append(record)
            size += record.size
        return batch

    def _iterator(self) -> str:
        """Where to read from: after the last record read (a lost iterator), after the checkpoint, or
        the mapping's starting position (LATEST is pinned to a checkpoint at once, so a restart before
        any record arrives does not skip what came meanwhile)."""
        after = self.last_read or self.mapping.checkpoints.shards.get(self.shard)
        if after == SETTLED_FROM_START:
            return self.source.iterator(self.shard, "TRIM_HORIZON")
        if after:
            return self.source.iterator(self.shard, "AFTER_SEQUENCE_NUMBER", after)
        position = self.settings.starting_position
        if position == "LATEST":
            self.mapping.checkpoints.save(self.shard, self._end_of_shard())
            return self._iterator()
        if position == "AT_TIMESTAMP":
            return self.source.iterator(self.shard, "AT_TIMESTAMP", at=self.settings.starting_timestamp)
        return self.source.iterator(self.shard, "TRIM_HORIZON")

    def _end_of_shard(self) -> str:
        last = SETTLED_FROM_START
        iterator: str | None = self.source.iterator(self.shard, "TRIM_HORIZON")
        while iterator:
            records, iterator = self.source.read(self.shard, iterator, 10000)
            if not records:
                break
            last = records[-1].sequence
        return last


class StreamMapping:
    """One stream event of a function: its pollers, its retry rules and its on-failure destination."""

    def __init__(
        self,
        fn: FunctionSpec,
        trigger: StreamTrigger,
        source: StreamSource,
        runtime: FunctionRuntime,
        function_arn: str,
        send_failure: Send | None,
        report: Report,
        state_dir: Path,
        delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.fn = fn
        self.event = trigger.event
        self.trigger = trigger
        self.settings: MappingSettings = trigger.settings
        self.source = source
        self.runtime = runtime
        self.function_arn = function_arn
        self.send_failure = send_failure
        self.report = report
        self.delays = delays
        self.name = f"{fn.lambda_name}-{trigger.event.name}"
        self.checkpoints = Checkpoints(state_dir / f"{self.name}.json", source.identity)
        self.progress: dict[str, ShardProgress] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # FilterCriteria (event_filters.py): a record no pattern matches is settled without an invocation.
        self.keep: Callable[[dict[str, Any]], bool] | None = None
        self.filtered = 0

    async def start(self) -> None:
        if not self.settings.enabled:
            return
        shards = await asyncio.to_thread(self.source.shards)
        self._tasks = [asyncio.create_task(ShardPoller(self, shard).run()) for shard in shards]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def settle(self, shard: str, batch: list[StreamRecord], attempts: int = 0) -> None:
        """Invoke until `batch` is done: succeeded, or handed to the on-failure destination. A record that
        cannot be handed over (its `problem`) goes there at once, alone, and the others go on."""
        settings = self.settings
        for record in [record for record in batch if record.problem is not None]:
            await self._fail(shard, [record], MALFORMED, attempts, None, record.problem)
        batch = [record for record in batch if record.problem is None]
        while batch:
            batch = await self._drop_expired(shard, batch, attempts)
            if not batch:
                return
            result = await self._invoke(batch)
            attempts += 1
            failed_from = self._failed_from(result, batch)
            self.report(
                self.source.kind,
                self.fn.lambda_name,
                result.request_id,
                attempts,
                result.duration_ms,
                self._outcome(result, failed_from),
                records=len(batch),
                shard=shard,
                cold=result.cold_start,
            )
            if failed_from is None:
                self.progress[shard].done(batch)
                return
            if failed_from:
                self.progress[shard].done(batch[:failed_from])
                batch = batch[failed_from:]
            if settings.bisect and len(batch) > 1:
                middle = len(batch) // 2
                await self.settle(shard, batch[:middle], attempts - 1)
                await self.settle(shard, batch[middle:], attempts - 1)
                return
            if 0 <= settings.max_retries < attempts:
                await self._fail(shard, batch, "RetryAttemptsExhausted", attempts, result.function_error or "Unhandled")
                return
            await asyncio.sleep(self.delays[min(attempts - 1, len(self.delays) - 1)])

    @staticmethod
    def _outcome(result: InvokeResult, failed_from: int | None) -> str:
        if failed_from is None:
            return "ok"
        if result.function_error:
            return "error"
        return f"partial ({failed_from} ok)" if failed_from else "all reported failed"

    def _failed_from(self, result: InvokeResult, batch: list[StreamRecord]) -> int | None:
        if result.function_error:
            return 0
        if not self.settings.report_item_failures:
            return None
        return first_failure(result.payload, [record.sequence for record in batch])

    async def _invoke(self, batch: list[StreamRecord]) -> InvokeResult:
        payload = json.dumps({"Records": [record.event_record for record in batch]}).encode()
        name, first = self.fn.lambda_name, min((record.arrival for record in batch), default=None)
        received = recorder.stream_batch(self.source.kind, self.trigger.stream_name, len(batch), first)
        return await recorder.invocation(  # a trace of its own: stream records carry none
            name,
            recorder.onward(received, name),
            lambda header: self.runtime.invoke_when_free(payload, trace_id=header),
            self.source.kind.lower(),
        )

    async def _drop_expired(self, shard: str, batch: list[StreamRecord], attempts: int) -> list[StreamRecord]:
        if self.settings.max_record_age_s < 0:
            return batch
        oldest_kept = time.time() - self.settings.max_record_age_s
        expired = [record for record in batch if record.arrival < oldest_kept]
        if expired:
            await self._fail(shard, expired, "RecordAgeExceeded", attempts, None)
        return [record for record in batch if record.arrival >= oldest_kept]

    async def _fail(
        self,
        shard: str,
        batch: list[StreamRecord],
        condition: str,
        attempts: int,
        error: str | None,
        reason: str | None = None,
    ) -> None:
        info = [(record.sequence, record.arrival) for record in batch]
        record = stream_failure_record(
            self.source.kind, self.function_arn, condition, attempts, shard, self.source.arn, info, error
        )
        why = f"{condition}: {reason[:300]}" if reason else condition
        if reason:
            LOG.info(f"{self.name} {shard}: record {batch[0].sequence} not handed over: {reason}")
        outcome = f"on-failure destination ({why})"
        if self.send_failure is None:
            outcome = f"dropped ({why})"
        else:
            await self.send_failure(record)
        self.report(self.source.kind, self.fn.lambda_name, "-", attempts, 0.0, outcome, records=len(batch), shard=shard)
        self.progress[shard].done(batch)
