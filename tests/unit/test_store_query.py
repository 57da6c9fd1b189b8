"""Queries match a brute-force scan and skip frames their headers exclude."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from logflume._record import LEVELS_BY_NAME, Record
from logflume.formatting import json_line
from logflume.store import SegmentStore

BASE = 1_700_000_000_000_000_000
LOGGERS = ["checkout", "checkout.cart", "payments", "auth"]
LEVELS = [10, 20, 30, 40, 50]
MSGS = ["request handled", "slow dependency", "upstream timeout", "payment failed"]


def _record(ts_ns: int, level: int, logger: str, msg: str, **fields: Any) -> Record:
    record = Record(ts_ns, level, logger, msg, {}, fields)
    record.line = json_line(record)
    return record


def _fill(store: SegmentStore, rng: random.Random, frames: int, per_frame: int) -> list[bytes]:
    lines: list[bytes] = []
    ts = BASE
    for _ in range(frames):
        batch = []
        for _ in range(per_frame):
            ts += rng.randrange(1, 5_000_000)
            batch.append(
                _record(
                    ts,
                    rng.choice(LEVELS),
                    rng.choice(LOGGERS),
                    rng.choice(MSGS),
                    user_id=rng.randrange(5),
                    ok=rng.random() < 0.5,
                )
            )
        store.write_batch(batch)
        lines.extend(r.line for r in batch)
    return lines


def _brute(lines: list[bytes], f: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        obj = orjson.loads(line)
        ts = int(datetime.fromisoformat(obj["ts"]).timestamp() * 1_000_000) * 1000
        if f.get("since") is not None and ts < int(f["since"] * 1e6) * 1000:
            continue
        if f.get("until") is not None and ts > int(f["until"] * 1e9):
            continue
        if f.get("level") and LEVELS_BY_NAME[obj["level"]] < LEVELS_BY_NAME[f["level"]]:
            continue
        lg = f.get("logger")
        if lg and not (obj["logger"] == lg or obj["logger"].startswith(lg + ".")):
            continue
        if any(obj.get(k) != v for k, v in (f.get("where") or {}).items()):
            continue
        if f.get("contains") and f["contains"].encode() not in line:
            continue
        out.append(obj)
    return out


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[SegmentStore, list[bytes]]:
    directory = tmp_path_factory.mktemp("store")
    store = SegmentStore(directory, compression="zstd", max_segment_bytes=4096)
    lines = _fill(store, random.Random(4), frames=60, per_frame=20)
    store.close()
    return SegmentStore(directory, readonly=True), lines


def test_query_filters_match_a_brute_force_scan(filled: tuple[SegmentStore, list[bytes]]) -> None:
    store, lines = filled
    rng = random.Random(11)
    first = BASE / 1e9
    assert len(lines) == 1200
    for _ in range(40):
        a, b = sorted(rng.uniform(first - 1, first + 3.5) for _ in range(2))
        f: dict[str, Any] = {
            "since": rng.choice([None, a]),
            "until": rng.choice([None, b]),
            "level": rng.choice([None, "info", "warning", "error"]),
            "logger": rng.choice([None, "checkout", "payments"]),
            "where": rng.choice([None, {"user_id": rng.randrange(5)}, {"ok": True}]),
            "contains": rng.choice([None, "timeout", "handled"]),
        }
        got = list(store.query(**f))
        assert got == _brute(lines, f), f


def test_store_spans_several_segments(filled: tuple[SegmentStore, list[bytes]]) -> None:
    store, lines = filled
    assert store.summary()["segments"] > 3
    assert list(store.query()) == [orjson.loads(x) for x in lines]
    assert len(list(store.query(limit=7))) == 7


def test_time_range_query_decompresses_only_the_frames_it_needs(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path, compression="gzip", max_segment_bytes=1 << 20)
    for frame in range(200):
        start = BASE + frame * 1_000_000_000  # frame k covers second k
        store.write_batch(
            [_record(start + i * 1000, 20, "app", "m", frame=frame) for i in range(50)]
        )
    reader = SegmentStore(tmp_path, readonly=True)
    got = list(reader.query(since=(BASE / 1e9) + 120, until=(BASE / 1e9) + 124.5))
    assert {r["frame"] for r in got} == {120, 121, 122, 123, 124}
    assert len(got) == 250
    assert reader.frames_decompressed == 5
    list(reader.query(level="error"))  # every record is info: no frame needs reading
    assert reader.frames_decompressed == 5
    store.close()


def test_min_level_filters_records_while_level_is_the_compression_level(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path, compression="zstd", level=19, min_level="warning")
    assert store.level == 30
    assert store.compression_level == 19
    other = SegmentStore(tmp_path / "other", compression="gzip")
    assert other.level is None
    other.close()
    store.close()
