"""``logflume query / cat / tail / stats`` on a real store, as a user runs them."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import orjson
import pytest

from logflume._record import Record
from logflume.cli import build_parser, main
from logflume.cli import tail as tail_command
from logflume.formatting import json_line
from logflume.store import SegmentStore
from logflume.store.index import list_segments
from logflume.testing import wait_until

NOW = time.time_ns()


def _record(i: int, level: int, logger: str, msg: str, age_s: float) -> Record:
    record = Record(NOW - int(age_s * 1e9), level, logger, msg, {}, {"user_id": i % 10, "i": i})
    record.line = json_line(record)
    return record


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    store = SegmentStore(tmp_path / "store", compression="zstd")
    old = [_record(i, 20, "checkout", "order placed", 3600 - i) for i in range(50)]
    new = [_record(50 + i, 20, "payments", "charge ok", 60 - i) for i in range(40)]
    new.append(_record(97, 40, "checkout.cart", "upstream timeout", 5))
    store.write_batch(old)
    store.write_batch(new)
    store.close()
    return tmp_path / "store"


def _lines(out: str) -> list[dict[str, object]]:
    return [orjson.loads(x) for x in out.splitlines()]


def test_query_filters_by_time_level_logger_field_and_substring(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", str(store_dir), "--since", "10m", "--json"]) == 0
    assert len(_lines(capsys.readouterr().out)) == 41
    args = ["query", str(store_dir), "--level", "error", "--logger", "checkout"]
    args += ["--where", "user_id=7", "--contains", "timeout", "--json"]
    assert main(args) == 0
    [row] = _lines(capsys.readouterr().out)
    assert (row["msg"], row["i"]) == ("upstream timeout", 97)
    assert main(["query", str(store_dir), "--until", "30m", "--limit", "3", "--json"]) == 0
    assert [r["i"] for r in _lines(capsys.readouterr().out)] == [0, 1, 2]


def test_default_output_is_one_readable_line_per_record(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", str(store_dir), "--level", "error"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert "ERROR" in line and "checkout.cart:" in line and "upstream timeout" in line
    assert "user_id=7" in line and "\x1b[" not in line  # no colour codes off a TTY


def test_cat_prints_every_record_in_order(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cat", str(store_dir), "--json"]) == 0
    assert [r["i"] for r in _lines(capsys.readouterr().out)] == [*range(90), 97]


def test_stats_reports_records_bytes_ratio_and_span(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", str(store_dir), "--json"]) == 0
    stats = orjson.loads(capsys.readouterr().out)
    assert stats["records"] == 91 and stats["segments"] == 1
    assert stats["raw_bytes"] > stats["compressed_bytes"] > 0
    assert stats["ratio"] > 1
    assert 3590 < stats["span_seconds"] < 3600
    assert main(["stats", str(store_dir)]) == 0
    assert "records" in capsys.readouterr().out


def test_tail_prints_the_last_records_then_follows_new_frames(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["tail", str(store_dir), "-n", "3", "-f", "--json"])
    args.poll = 0.005
    stop = threading.Event()
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(tail_command.run(args, stop)))
    thread.start()
    try:
        writer = SegmentStore(store_dir, compression="zstd")
        writer.write_batch([_record(200, 20, "auth", "login", 0)])
        writer.close()
        wait_until(lambda: '"i":200' in capsys.readouterr().out or None, timeout=10)
    finally:
        stop.set()
        thread.join(5)
    assert status == [0]


def test_tail_without_follow_shows_the_last_n(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tail", str(store_dir), "-n", "2", "--json"]) == 0
    assert [r["i"] for r in _lines(capsys.readouterr().out)] == [89, 97]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "{dir}", "--level", "loud"], "unknown level 'loud'"),
        (["query", "{dir}", "--since", "ten minutes"], "bad time 'ten minutes'"),
        (["query", "{dir}", "--where", "user_id"], "bad --where"),
        (["cat", "{dir}/nope"], "no store directory"),
        (["stats", "{dir}/nope"], "no store directory"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(
    store_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([a.format(dir=store_dir) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_corrupt_segment_is_reported_in_one_line(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [segment] = list_segments(store_dir)
    data = bytearray(segment.read_bytes())
    data[-10] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert main(["cat", str(store_dir), "--json"]) == 1
    err = capsys.readouterr().err
    assert "corrupt store" in err and "checksum" in err and len(err.strip().splitlines()) == 1


def test_subcommands_are_registered() -> None:
    parsed = build_parser().parse_args(["stats", "x"])
    assert isinstance(parsed, argparse.Namespace) and parsed.command == "stats"


def test_terminal_output_is_coloured_by_level(
    store_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["query", str(store_dir), "--level", "error"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[31mERROR" in out and "upstream timeout" in out
