"""The Loki sink's parts on their own: labels, wire formats, refusals, the spool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logflume._record import INFO, WARNING, Record
from logflume.errors import ConfigurationError
from logflume.sinks.loki._labels import (
    OVERFLOW,
    Labeler,
    format_labels,
    label_value,
    parse_labels,
    sanitize_name,
)
from logflume.sinks.loki._refusal import ORIG_TS, oldest_acceptable_ns, refuse
from logflume.sinks.loki._spool import Spool, SpoolLockedError
from logflume.sinks.loki._transport import parse_retry_after, push_url
from logflume.sinks.loki._wire import Encoding, Payload, decode, encode, group

NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
ENTRY = st.tuples(
    st.integers(0, 2**63 - 1),
    TEXT.map(str.encode),
    # Names are distinct (LokiSink checks it): JSON carries metadata as an object.
    st.lists(st.tuples(NAMES, TEXT), max_size=2, unique_by=lambda pair: pair[0]).map(tuple),
)
STREAMS = st.lists(
    st.tuples(
        st.dictionaries(NAMES, TEXT, min_size=1, max_size=3).map(
            lambda d: tuple(sorted(d.items()))
        ),
        st.lists(ENTRY, min_size=1, max_size=5),
    ),
    max_size=4,
    unique_by=lambda stream: stream[0],
)


def record(level: int = INFO, logger: str = "app", **fields: object) -> Record:
    return Record(1, level, logger, "m", {}, fields, line=b'{"msg":"m"}\n')


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("level", "level"),
        ("http.status", "http_status"),
        ("9lives", "_9lives"),
        ("__name__", "_name__"),
        ("", "_"),
        ("naïve", "na_ve"),
    ],
)
def test_label_names_follow_lokis_rule(raw: str, clean: str) -> None:
    assert sanitize_name(raw) == clean


def test_label_values_are_bounded_text() -> None:
    assert label_value(True) == "true"
    assert label_value(42) == "42"
    assert len(label_value("é" * 5000).encode()) <= 1024
    assert label_value("bad\udc80") == "bad\\udc80"


@given(st.dictionaries(NAMES, TEXT, min_size=1, max_size=4))
def test_label_syntax_round_trips(labels: dict[str, str]) -> None:
    key = tuple(sorted(labels.items()))
    assert parse_labels(format_labels(key)) == key


def test_labeler_caps_values_per_field_and_streams() -> None:
    labeler = Labeler({"service": "shop"}, ("level", "user"), max_label_values=3, max_streams=5)
    keys = {labeler.key(record(user=f"u{i}")) for i in range(1000)}
    assert len(keys) == 4  # three real users, then one overflow stream
    assert dict(labeler.key(record(user="u999")))["user"] == OVERFLOW
    assert labeler.overflowed == 998  # 997 above and the one just asked
    many = Labeler({"s": "x"}, ("a", "b"), max_label_values=100, max_streams=5)
    keys = {many.key(record(a=i, b=i)) for i in range(50)}
    assert len(keys) <= 6  # five streams and the overflow one
    assert dict(many.key(record(a=49, b=49))) == {"s": "x", "a": OVERFLOW, "b": OVERFLOW}


def test_labeler_takes_level_logger_and_fields() -> None:
    labeler = Labeler(
        {"service": "shop"}, ("level", "logger", "region"), max_label_values=9, max_streams=9
    )
    key = dict(labeler.key(record(WARNING, "db", region="eu")))
    assert key == {"service": "shop", "level": "warning", "logger": "db", "region": "eu"}
    assert "region" not in dict(labeler.key(record()))  # absent field: no label


def test_labeler_rejects_conflicting_and_empty_configuration() -> None:
    with pytest.raises(ConfigurationError, match="twice"):
        Labeler({"level": "x"}, ("level",), max_label_values=1, max_streams=1)
    with pytest.raises(ConfigurationError, match="at least one label"):
        Labeler({}, (), max_label_values=1, max_streams=1)


@given(STREAMS, st.sampled_from(list(Encoding)))
def test_bodies_decode_to_what_was_encoded(streams: list, encoding: Encoding) -> None:
    streams = [(key, sorted(entries, key=lambda e: e[0])) for key, entries in streams]
    assert decode(encode(streams, encoding), encoding) == streams


def test_encoding_is_deterministic_so_resends_are_byte_identical() -> None:
    streams = group([((("a", "b"),), (2, b"two", ())), ((("a", "b"),), (1, b"one", ()))])
    assert streams == [((("a", "b"),), [(1, b"one", ()), (2, b"two", ())])]
    for encoding in Encoding:
        assert encode(streams, encoding) == encode(
            decode(encode(streams, encoding), encoding), encoding
        )


def test_retry_after_and_url() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert push_url("http://loki:3100/") == "http://loki:3100/loki/api/v1/push"
    with pytest.raises(ConfigurationError):
        push_url("loki:3100")


KEY = (("service", "x"),)
LATE = (
    "entry with timestamp 2026-01-01T00:00:01Z ignored, reason: 'entry too far behind, "
    "entry timestamp is: 2026-01-01T00:00:01Z, oldest acceptable timestamp is: "
    "2026-01-01T00:00:02.5Z'"
)


def test_oldest_acceptable_timestamp_is_read_from_lokis_text() -> None:
    assert oldest_acceptable_ns(LATE) == 1767225602_500_000_000
    assert oldest_acceptable_ns("no time here") is None


def test_refusal_restamps_only_late_entries_and_keeps_their_time() -> None:
    cutoff = 1767225602_500_000_000
    entries = [(cutoff - 10, b"old", ()), (cutoff + 10, b"new", ())]
    outcome = refuse([(KEY, entries)], 400, LATE, True, lambda: 5 * 10**18)
    assert outcome.pieces == [
        [(KEY, [(cutoff + 10, b"new", ())])],
        [(KEY, [(5 * 10**18, b"old", ((ORIG_TS, str(cutoff - 10)),))])],
    ]
    assert outcome.restamped == 1 and not outcome.dead
    # Refused again after re-stamping: dead-lettered, no loop.
    again = refuse(outcome.pieces[1], 400, "timestamp too old", True, lambda: 6 * 10**18)
    assert [entry for _, entry in again.dead] == outcome.pieces[1][0][1]
    assert refuse([(KEY, entries)], 400, LATE, False, lambda: 0).dead == [(KEY, entries[0])]


def test_refusal_splits_streams_halves_big_batches_and_dead_letters_the_rest() -> None:
    entries = [(i, b"x", ()) for i in range(4)]
    two = refuse([(KEY, entries), ((("service", "y"),), entries)], 400, "bad", True, lambda: 0)
    assert len(two.pieces) == 2 and not two.dead
    halves = refuse([(KEY, entries)], 413, "", True, lambda: 0)
    assert halves.pieces == [[(KEY, entries[:2])], [(KEY, entries[2:])]]
    assert len(refuse([(KEY, entries[:1])], 413, "", True, lambda: 0).dead) == 1
    assert len(refuse([(KEY, entries)], 400, "invalid labels", True, lambda: 0).dead) == 4


def payload(n: int, size: int = 100) -> Payload:
    entries = [(i, b"x" * size, ()) for i in range(n)]
    return Payload.build([(KEY, entries)], Encoding.JSON)


def test_spool_is_fifo_across_reopen_and_resends_the_same_bytes(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 10 * 1024 * 1024, fsync=False)
    sent = [payload(i + 1) for i in range(5)]
    for item in sent:
        spool.append(item)
    head = spool.head()
    assert head is not None and head.body == sent[0].body
    spool.ack(head.spool_id or 0)
    spool.close()
    again = Spool(tmp_path, 10 * 1024 * 1024, fsync=False)
    assert again.recovered_entries == 2 + 3 + 4 + 5
    bodies = []
    while (item := again.head()) is not None:
        bodies.append(item.body)
        again.ack(item.spool_id or 0)
    assert bodies == [p.body for p in sent[1:]]
    assert again.entries == 0 and again.batches == 0
    again.close()


def test_spool_drops_oldest_segments_when_full_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 256 * 1024, fsync=False)
    for _ in range(100):
        spool.append(payload(10, 1000))  # ~10 KiB each, 1 MB in all
    assert spool.disk_bytes <= 256 * 1024
    assert spool.dropped_entries > 0
    assert spool.entries + spool.dropped_entries == 1000
    spool.close()


def test_spool_moves_a_torn_record_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1024 * 1024, fsync=False)
    spool.append(payload(3))
    spool.append(payload(4))
    spool.close()
    segment = next(tmp_path.glob("spool-*.seg"))
    with open(segment, "r+b") as handle:
        handle.truncate(os.path.getsize(segment) - 5)
    again = Spool(tmp_path, 1024 * 1024, fsync=False)
    assert again.entries == 3 and again.torn_bytes > 0
    assert list(tmp_path.glob("spool-*.seg.torn-*"))
    again.close()


def test_one_process_per_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1024 * 1024, fsync=False)
    with pytest.raises(SpoolLockedError, match="own spool_dir"):
        Spool(tmp_path, 1024 * 1024, fsync=False)
    spool.close()


def test_refused_head_is_replaced_durably_by_its_parts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1024 * 1024, fsync=False)
    spool.append(payload(4))
    spool.append(payload(5))
    head = spool.head()
    assert head is not None and head.entries == 4
    part_a, part_b = payload(1, 7), payload(3, 9)
    spool.replace_head(head.spool_id or 0, [part_a, part_b])
    first = spool.head()
    assert first is not None and first.body == part_a.body
    spool.ack(first.spool_id or 0)  # part A accepted, then the process stops
    spool.close()
    again = Spool(tmp_path, 1024 * 1024, fsync=False)
    bodies = []
    while (item := again.head()) is not None:
        bodies.append(item.body)
        again.ack(item.spool_id or 0)
    assert bodies == [part_b.body, payload(5).body]  # not the refused batch, not A again
    assert again.entries == 0
    again.close()


def test_a_crash_between_front_file_and_replay_offset_sends_the_parts_only(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path, 1024 * 1024, fsync=False)
    spool.append(payload(4))
    offset_before = (
        (tmp_path / "replay.offset").read_bytes() if (tmp_path / "replay.offset").exists() else None
    )
    head = spool.head()
    assert head is not None
    spool.replace_head(head.spool_id or 0, [payload(2, 3)])
    spool.close()
    if offset_before is None:  # as if the offset had not been moved yet
        (tmp_path / "replay.offset").unlink()
    else:
        (tmp_path / "replay.offset").write_bytes(offset_before)
    again = Spool(tmp_path, 1024 * 1024, fsync=False)
    item = again.head()
    assert item is not None and item.body == payload(2, 3).body
    again.ack(item.spool_id or 0)
    assert again.head() is None
    again.close()


def test_small_spools_keep_offsets_right_and_oversized_batches_are_refused(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path, 30_000, fsync=False)
    for _ in range(6):
        assert spool.append(payload(10, 1000))  # ~10 KiB each; older ones dropped
    assert spool.disk_bytes <= 30_000
    assert spool.corrupt_batches == 0
    while (item := spool.head()) is not None:
        assert item.body == payload(10, 1000).body
        spool.ack(item.spool_id or 0)
    assert spool.corrupt_batches == 0 and spool.entries == 0
    assert spool.append(payload(40, 1000)) is False  # alone larger than the spool
    assert spool.dropped_entries >= 40
    spool.close()


def test_a_refused_front_write_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    spool = Spool(tmp_path, 1024 * 1024, fsync=False)
    spool.append(payload(4))
    spool.append(payload(5))
    head = spool.head()
    assert head is not None
    before = (spool.batches, spool.entries, spool.disk_bytes)

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool, "_replace", full)
    with pytest.raises(OSError):
        spool.replace_head(head.spool_id or 0, [payload(2, 3)])
    with pytest.raises(OSError):
        spool.push_front([payload(1, 3)])
    assert (spool.batches, spool.entries, spool.disk_bytes) == before
    again = spool.head()
    assert again is not None and again.body == head.body  # still the refused batch
    spool.close()


def test_the_replaced_record_stays_replaced_across_two_restarts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1024 * 1024, fsync=False)
    spool.append(payload(4))
    spool.append(payload(5))
    offset_file = tmp_path / "replay.offset"
    stale = offset_file.read_bytes() if offset_file.exists() else None
    head = spool.head()
    assert head is not None
    spool.replace_head(head.spool_id or 0, [payload(2, 3)])
    spool.close()
    # A crash before the replay offset moved: put the old one back.
    if stale is None:
        offset_file.unlink()
    else:
        offset_file.write_bytes(stale)
    second = Spool(tmp_path, 1024 * 1024, fsync=False)
    part = second.head()
    assert part is not None and part.body == payload(2, 3).body
    second.ack(part.spool_id or 0)  # the part is accepted, then the process stops again
    second.close()
    third = Spool(tmp_path, 1024 * 1024, fsync=False)
    rest = third.head()
    assert rest is not None and rest.body == payload(5).body  # not the refused batch again
    third.ack(rest.spool_id or 0)
    assert third.head() is None and third.entries == 0 and third.batches == 0
    third.close()


@pytest.mark.parametrize("fields", [("a.b", "a_b"), ("orig_ts",)])
def test_metadata_field_names_must_stay_distinct(fields: tuple[str, ...]) -> None:
    from logflume.sinks.loki import LokiSink

    with pytest.raises(ConfigurationError, match="distinct"):
        LokiSink("http://127.0.0.1:9", structured_metadata_fields=fields)
