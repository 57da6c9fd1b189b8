"""Backpressure: each policy behaves as documented and every drop is counted."""

from __future__ import annotations

import threading
import time

import pytest

import logflume
from logflume.errors import ConfigurationError


class HeldSink:
    """A sink whose writes wait for an Event: a slow disk, without sleeping."""

    name = "held"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.seqs: list[int] = []

    def write_batch(self, records: list[logflume.Record]) -> None:
        self.entered.set()
        self.gate.wait(30)
        self.seqs.extend(int(r.fields["seq"]) for r in records)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        pass


def _stalled(policy: str, **options: object) -> tuple[HeldSink, logflume.Logger]:
    sink = HeldSink()
    logflume.configure(
        sinks=[sink],
        policy=policy,
        batch_max_records=1,  # type: ignore[arg-type]
        **options,
    )  # type: ignore[arg-type]
    log = logflume.get_logger("bp")
    log.info("first", seq=-1)
    assert sink.entered.wait(10)  # the writer now holds record -1 and is stuck
    return sink, log


def test_drop_newest_keeps_the_first_records_and_counts_the_rest() -> None:
    sink, log = _stalled("drop_newest", max_queue_records=100)
    for seq in range(1000):
        log.info("m", seq=seq)
    stats = logflume.stats()
    assert stats["queued"] == 100
    assert stats["dropped_by_reason"]["queue_full"] == 900
    sink.gate.set()
    assert logflume.flush(timeout=10)
    assert sink.seqs == [-1, *range(100)]
    assert logflume.stats()["dropped"] == 900


def test_drop_oldest_keeps_the_latest_records_and_counts_the_rest() -> None:
    sink, log = _stalled("drop_oldest", max_queue_records=100)
    for seq in range(1000):
        log.info("m", seq=seq)
    assert logflume.stats()["dropped_by_reason"]["oldest"] == 900
    sink.gate.set()
    assert logflume.flush(timeout=10)
    assert sink.seqs == [-1, *range(900, 1000)]


def test_block_waits_for_room_and_loses_nothing_when_the_sink_catches_up() -> None:
    sink, log = _stalled("block", max_queue_records=10, block_timeout=30)
    done = threading.Event()

    def produce() -> None:
        for seq in range(200):
            log.info("m", seq=seq)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert not done.wait(0.2)  # blocked on the full queue (the sink is held)
    assert logflume.stats()["queued"] == 10
    sink.gate.set()
    producer.join(30)
    assert done.is_set()
    assert logflume.flush(timeout=10)
    assert sink.seqs == [-1, *range(200)]
    assert logflume.stats()["dropped"] == 0


def test_block_drops_and_counts_after_its_timeout() -> None:
    sink, log = _stalled("block", max_queue_records=5, block_timeout=0.05)
    started = time.monotonic()
    for seq in range(8):
        log.info("m", seq=seq)
    elapsed = time.monotonic() - started
    assert logflume.stats()["dropped_by_reason"]["block_timeout"] == 3
    assert elapsed >= 0.15  # each of the 3 extra records waited its timeout
    sink.gate.set()
    assert logflume.flush(timeout=10)
    assert sink.seqs == [-1, *range(5)]


def test_queue_is_bounded_by_bytes_too() -> None:
    sink, log = _stalled("drop_newest", max_queue_records=1_000_000, max_queue_bytes=1024 * 1024)
    big = "x" * 10_000
    for seq in range(1000):
        log.info("m", seq=seq, payload=big)
    stats = logflume.stats()
    assert stats["queued_bytes"] <= 1024 * 1024
    assert 90 <= stats["queued"] <= 105
    assert stats["queued"] + stats["dropped"] == 1000
    sink.gate.set()
    assert logflume.flush(timeout=10)


def test_memory_stays_bounded_under_a_flood_with_a_stalled_sink() -> None:
    import tracemalloc

    sink, log = _stalled("drop_newest", max_queue_records=1000)
    tracemalloc.start()
    try:
        for seq in range(50_000):
            log.info("flood", seq=seq, user="u" * 20)
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert logflume.stats()["queued"] == 1000
    assert current < 2 * 1024 * 1024  # ~1000 small records, not 50,000
    sink.gate.set()
    assert logflume.flush(timeout=10)
    assert logflume.stats()["dropped"] == 49_000


def test_logging_from_inside_a_sink_never_deadlocks_the_writer() -> None:
    class Chatty:
        name = "chatty"

        def __init__(self) -> None:
            self.seen = 0

        def write_batch(self, records: list[logflume.Record]) -> None:
            self.seen += len(records)
            for record in records:
                if record.logger == "outer":  # the writer thread logs into its own full queue
                    for _ in range(5):
                        logflume.get_logger("inner").info("from inside the sink")

        def flush(self, timeout: float | None = None) -> bool:
            return True

        def close(self) -> None:
            pass

    sink = Chatty()
    logflume.configure(sinks=[sink], policy="block", max_queue_records=2, block_timeout=30)
    logflume.get_logger("outer").info("start")
    assert logflume.flush(timeout=10)
    assert logflume.flush(timeout=10)  # the two inner records that fitted are written too
    stats = logflume.stats()
    # From the writer thread "block" cannot wait for itself: the overflow is dropped, counted.
    assert stats["dropped_by_reason"]["queue_full"] == 3
    assert sink.seen == 3


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("policy", "drop_random"),
        ("max_queue_records", 0),
        ("max_record_bytes", 10),
        ("level", "verbose"),
        ("block_timeout", -1),
    ],
)
def test_bad_options_raise_configuration_error_naming_the_option(
    option: str, value: object
) -> None:
    with pytest.raises(ConfigurationError) as info:
        logflume.configure(sinks=[logflume.MemorySink()], **{option: value})  # type: ignore[arg-type]
    assert option.split("_")[0] in str(info.value) or str(value) in str(info.value)
