"""Stream, file and memory sinks."""

from __future__ import annotations

import io
import os
from pathlib import Path

import orjson
import pytest

import logflume
from logflume.errors import ConfigurationError, SinkOpenError


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stream_sink_writes_json_when_not_a_tty() -> None:
    out = io.StringIO()
    logflume.configure(sinks=[logflume.StreamSink(out)])
    logflume.get_logger("s").info("hello", n=1)
    assert logflume.flush(timeout=5)
    assert orjson.loads(out.getvalue())["n"] == 1


def test_stream_sink_uses_coloured_console_format_on_a_tty() -> None:
    out = FakeTTY()
    logflume.configure(sinks=[logflume.StreamSink(out)])
    logflume.get_logger("svc").warning("careful", n=1)
    assert logflume.flush(timeout=5)
    text = out.getvalue()
    assert "\x1b[33m" in text and "careful" in text and "n=1" in text and "svc:" in text


def test_stream_sink_console_format_can_be_forced_without_colours() -> None:
    out = io.StringIO()
    logflume.configure(sinks=[logflume.StreamSink(out, format="console", colours=False)])
    logflume.get_logger("svc").error("plain")
    assert logflume.flush(timeout=5)
    assert "ERROR" in out.getvalue() and "\x1b[" not in out.getvalue()


def test_stream_sink_defaults_to_the_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    logflume.configure(sinks=[logflume.StreamSink()])
    logflume.get_logger("e").info("to stderr")
    assert logflume.flush(timeout=5)
    assert "to stderr" in capsys.readouterr().err


def test_first_log_call_without_configure_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logflume.get_logger("early").info("before configure")
    assert logflume.flush(timeout=5)
    assert "before configure" in capsys.readouterr().err


def test_stream_sink_rejects_unknown_stream_names() -> None:
    with pytest.raises(ConfigurationError, match="stderr"):
        logflume.StreamSink("stdmiddle")


def test_file_sink_appends_to_an_existing_file_and_creates_directories(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "app.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"old": true}\n')
    logflume.configure(sinks=[logflume.FileSink(path, fsync=True)])
    logflume.get_logger("f").info("new")
    assert logflume.flush(timeout=5)
    lines = path.read_bytes().splitlines()
    assert orjson.loads(lines[0]) == {"old": True} and orjson.loads(lines[1])["msg"] == "new"
    sink_stats = logflume.stats()["sinks"][f"file:{path}"]
    assert sink_stats["fsyncs"] >= 1


def test_file_sink_level_filters_per_sink(tmp_path: Path) -> None:
    everything, errors = tmp_path / "all.jsonl", tmp_path / "err.jsonl"
    logflume.configure(
        sinks=[logflume.FileSink(everything), logflume.FileSink(errors, level="error")]
    )
    log = logflume.get_logger("f")
    log.info("i")
    log.error("e")
    assert logflume.flush(timeout=5)
    assert len(everything.read_bytes().splitlines()) == 2
    assert [orjson.loads(x)["msg"] for x in errors.read_bytes().splitlines()] == ["e"]


def test_file_sink_that_cannot_open_says_why(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(SinkOpenError, match="cannot open log file"):
        logflume.FileSink(tmp_path / "dir")


def test_file_sink_reopen_follows_an_external_rename(tmp_path: Path) -> None:
    path = tmp_path / "app.jsonl"
    sink = logflume.FileSink(path)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("r")
    log.info("one")
    assert logflume.flush(timeout=5)
    os.rename(path, tmp_path / "app.jsonl.1")
    sink.reopen()
    log.info("two")
    assert logflume.flush(timeout=5)
    assert orjson.loads(path.read_bytes())["msg"] == "two"


def test_memory_sink_wait_for_and_eviction() -> None:
    sink = logflume.MemorySink(max_records=3)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("m")
    for i in range(5):
        log.info(str(i))
    assert sink.wait_for(lambda records: any(r.msg == "4" for r in records), timeout=5)
    assert sink.messages() == ["2", "3", "4"]
    assert sink.stats() == {"held": 3, "evicted": 2}
    assert not sink.wait_for(lambda records: len(records) > 3, timeout=0.01)
