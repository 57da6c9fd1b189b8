"""Property: whatever the batching and queue bounds, every record arrives exactly once, in order."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

import logflume


@settings(max_examples=25, deadline=None)
@given(
    producers=st.integers(min_value=1, max_value=4),
    per_producer=st.integers(min_value=0, max_value=300),
    batch_max_records=st.integers(min_value=1, max_value=64),
    max_queue_records=st.integers(min_value=1, max_value=50),
    flush_every=st.integers(min_value=0, max_value=100),
)
def test_every_record_arrives_exactly_once_in_order_per_producer(
    producers: int,
    per_producer: int,
    batch_max_records: int,
    max_queue_records: int,
    flush_every: int,
) -> None:
    sink = logflume.MemorySink()
    logflume.configure(
        sinks=[sink],
        policy="block",
        block_timeout=30,
        batch_max_records=batch_max_records,
        max_queue_records=max_queue_records,
        batch_max_wait=0,
    )
    log = logflume.get_logger("prop")

    def produce(worker: int) -> None:
        for seq in range(per_producer):
            log.info("p", worker=worker, seq=seq)
            if flush_every and seq % flush_every == 0:
                assert logflume.flush(timeout=30)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert logflume.flush(timeout=30)
        seen: dict[int, list[int]] = {w: [] for w in range(producers)}
        for record in sink.records:
            seen[record.fields["worker"]].append(record.fields["seq"])
        assert all(seqs == list(range(per_producer)) for seqs in seen.values())
        stats = logflume.stats()
        assert stats["dropped"] == 0
        assert stats["enqueued"] == stats["processed"] == producers * per_producer
    finally:
        logflume.shutdown(timeout=10)
