"""Bad input gets a bounded, valid result and never raises into the application."""

from __future__ import annotations

import datetime
import decimal
import uuid
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

import logflume
from logflume.formatting import TRUNCATION_MARKER, console_line
from logflume.testing import Capture


class Unserializable:
    def __repr__(self) -> str:
        return "<Unserializable thing>"


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    def __str__(self) -> str:
        raise RuntimeError("str exploded")


def _only(capture: Capture) -> dict[str, Any]:
    [line] = capture.lines()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    parsed: dict[str, Any] = orjson.loads(line)
    return parsed


def test_non_serializable_values_become_repr(logflume_capture: Capture) -> None:
    logflume.get_logger("x").info(
        "m",
        thing=Unserializable(),
        broken=BrokenRepr(),
        tags={"b"},
        raw=b"\xff\xfeok",
        when=datetime.date(2026, 1, 2),
        money=decimal.Decimal("1.10"),
        path=Path("/tmp/a"),
        uid=uuid.UUID(int=1),
    )
    row = _only(logflume_capture)
    assert row["thing"] == "<Unserializable thing>"
    assert row["broken"] == "<unrepresentable BrokenRepr>"
    assert row["tags"] == ["b"]
    assert row["raw"] == "\\xff\\xfeok"
    assert row["when"] == "2026-01-02"
    assert row["money"] == "Decimal('1.10')"
    assert row["path"] == "PosixPath('/tmp/a')"
    assert row["uid"] == "00000000-0000-0000-0000-000000000001"


def test_lone_surrogates_and_huge_ints_are_escaped_not_fatal(logflume_capture: Capture) -> None:
    logflume.get_logger("x\ud800").info(
        "bad \udcff text", big=2**200, nested={"k\ud801": ["\ud802"]}
    )
    row = _only(logflume_capture)
    assert row["msg"] == "bad \\udcff text"
    assert row["logger"] == "x\\ud800"
    assert row["big"] == str(2**200)
    assert row["nested"] == {"k\\ud801": ["\\ud802"]}


def test_bytes_messages_with_invalid_utf8_are_escaped(logflume_capture: Capture) -> None:
    logflume.get_logger("x").info(b"caf\xe9 \xff")
    assert _only(logflume_capture)["msg"] == "caf\\xe9 \\xff"


def test_non_string_dict_keys_and_cycles_do_not_lose_the_record(
    logflume_capture: Capture,
) -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    logflume.get_logger("x").info("m", mapping={1: "a", (2, 3): "b"}, cyclic=cyclic)
    row = _only(logflume_capture)
    assert row["mapping"]["1"] == "a"
    assert row["mapping"]["(2, 3)"] == "b"
    assert "cyclic" in row


def test_oversize_records_are_truncated_with_a_visible_marker() -> None:
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink], max_record_bytes=4096)
    log = logflume.get_logger("big")
    log.info("m" * 100_000, blob="b" * 50_000, small=1)
    log.info("ok", values=list(range(10_000)))
    assert logflume.flush(timeout=5)
    first, second = sink.lines()
    for line in (first, second):
        assert len(line) <= 4096
    row = orjson.loads(first)
    assert row["msg"].startswith("mmmm") and "…[truncated" in row["msg"]
    assert row["_truncated"]["original_bytes"] > 150_000
    assert row["small"] == 1 and "…[truncated" in row["blob"]
    row2 = orjson.loads(second)
    assert row2["msg"] == "ok" and "_fields" in row2 and "…[truncated" in row2["_fields"]
    assert TRUNCATION_MARKER.split("{")[0] in row2["_fields"]


def test_fields_named_like_reserved_keys_do_not_overwrite_them(logflume_capture: Capture) -> None:
    log = logflume.get_logger("real").bind(logger="fake-bound", _msg="taken")
    log.info("real msg", ts="fake", level="fake", msg="fake", exc="fake", src="fake")
    row = _only(logflume_capture)
    assert row["logger"] == "real" and row["msg"] == "real msg" and row["level"] == "info"
    assert row["ts"] != "fake"
    assert row["_logger"] == "fake-bound"
    assert row["_ts"] == row["_level"] == row["__msg"] == row["_exc"] == row["_src"] == "fake"
    assert row["_msg"] == "taken"


def test_console_lines_escape_newlines_so_records_cannot_be_forged() -> None:
    record = logflume.Record(
        0, logflume.INFO, "web", "login ok\n2026-01-01 ERROR admin: pwned", {}, {"user": "a\nb"}
    )
    text = console_line(record)
    assert text.count("\n") == 1 and "\\n" in text


@settings(max_examples=150, deadline=None)
@given(
    msg=st.one_of(st.text(), st.binary(), st.integers(), st.none()),
    fields=st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary()),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
            ),
            max_leaves=12,
        ),
        max_size=6,
    ),
)
def test_any_message_and_fields_give_exactly_one_valid_json_line(
    msg: Any, fields: dict[str, Any]
) -> None:
    from logflume.formatting import build_dict, encode

    line = encode(build_dict(0, logflume.INFO, "prop", str(msg), {}, fields), 2048)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert len(line) <= 2048
    row = orjson.loads(line)
    assert row["level"] == "info"


def test_secret_fields_are_redacted_in_every_sink_by_default(logflume_capture: Capture) -> None:
    log = logflume.get_logger("auth").bind(token="t-123")
    log.info("login", user="ann", password="hunter2")
    [record] = logflume_capture.records
    assert record.fields == {"user": "ann", "password": "[REDACTED]"}
    assert record.context == {"token": "[REDACTED]"}
    assert b"hunter2" not in record.line and b"t-123" not in record.line


def test_redaction_is_configurable_and_can_be_turned_off() -> None:
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink], redact_fields=("card",))
    log = logflume.get_logger("pay")
    log.info("charged", card="4111", password="visible")
    assert logflume.flush(timeout=5)
    assert sink.dicts()[0]["card"] == "[REDACTED]" and sink.dicts()[0]["password"] == "visible"
