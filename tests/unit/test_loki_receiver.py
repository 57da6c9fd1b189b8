"""The fake Loki push endpoint, exercised with hand-made bodies over real HTTP."""

from __future__ import annotations

import gzip
import http.client
import json
import signal
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import cramjam
import pytest

from logflume.testing.loki_receiver import (
    PUSH_PATH,
    LokiReceiver,
    format_labels,
    parse_labels,
)

NOW_S = 1_700_000_000
NOW_NS = NOW_S * 1_000_000_000


@pytest.fixture
def loki() -> Iterator[LokiReceiver]:
    with LokiReceiver(clock=lambda: float(NOW_S)) as receiver:
        yield receiver


def post(
    receiver: LokiReceiver,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, str, http.client.HTTPResponse]:
    c = conn or http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    c.request("POST", PUSH_PATH, body, {"Content-Type": content_type, **(headers or {})})
    resp = c.getresponse()
    text = resp.read().decode()
    if conn is None:
        c.close()
    return resp.status, text, resp


def json_body(*streams: tuple[dict[str, str], list[list[Any]]]) -> bytes:
    return json.dumps({"streams": [{"stream": s, "values": v} for s, v in streams]}).encode()


def push_json(receiver: LokiReceiver, *streams: tuple[dict[str, str], list[list[Any]]]) -> Any:
    return post(receiver, json_body(*streams))


# --- protobuf, built independently of the receiver's own schema -----------------------


def _pb_class() -> Any:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

    f = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="test_push.proto", package="logproto", dependency=["google/protobuf/timestamp.proto"]
    )
    fdp.syntax = "proto3"
    pair = fdp.message_type.add(name="LabelPairAdapter")
    pair.field.add(name="name", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    pair.field.add(name="value", number=2, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    entry = fdp.message_type.add(name="EntryAdapter")
    entry.field.add(
        name="timestamp",
        number=1,
        type=f.TYPE_MESSAGE,
        label=f.LABEL_OPTIONAL,
        type_name=".google.protobuf.Timestamp",
    )
    entry.field.add(name="line", number=2, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    entry.field.add(
        name="structuredMetadata",
        number=3,
        type=f.TYPE_MESSAGE,
        label=f.LABEL_REPEATED,
        type_name=".logproto.LabelPairAdapter",
    )
    stream = fdp.message_type.add(name="StreamAdapter")
    stream.field.add(name="labels", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    stream.field.add(
        name="entries",
        number=2,
        type=f.TYPE_MESSAGE,
        label=f.LABEL_REPEATED,
        type_name=".logproto.EntryAdapter",
    )
    stream.field.add(name="hash", number=3, type=f.TYPE_UINT64, label=f.LABEL_OPTIONAL)
    req = fdp.message_type.add(name="PushRequest")
    req.field.add(
        name="streams",
        number=1,
        type=f.TYPE_MESSAGE,
        label=f.LABEL_REPEATED,
        type_name=".logproto.StreamAdapter",
    )
    pool = descriptor_pool.DescriptorPool()
    ts = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(ts)
    pool.Add(ts)
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


def pb_body(*streams: tuple[str, list[tuple[int, str, dict[str, str]]]]) -> bytes:
    req = _pb_class()()
    for labels, entries in streams:
        s = req.streams.add(labels=labels, hash=12345)
        for ts, line, meta in entries:
            e = s.entries.add(line=line)
            e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 1_000_000_000)
            for k, v in meta.items():
                e.structuredMetadata.add(name=k, value=v)
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


# --- happy paths ----------------------------------------------------------------------


def test_json_push_is_stored_with_metadata(loki: LokiReceiver) -> None:
    status, text, resp = push_json(
        loki,
        ({"app": "a", "env": "dev"}, [[str(NOW_NS), "one"], [str(NOW_NS + 1), "two", {"t": "1"}]]),
    )
    assert (status, text) == (204, "")
    assert resp.getheader("Content-Length") is None
    assert loki.wait_for_entries(2, timeout=5)
    assert loki.streams() == {
        (("app", "a"), ("env", "dev")): [(NOW_NS, "one", {}), (NOW_NS + 1, "two", {"t": "1"})]
    }
    assert loki.entries_count() == 2


def test_gzip_json_push(loki: LokiReceiver) -> None:
    body = gzip.compress(json_body(({"app": "z"}, [[str(NOW_NS), "zipped"]])))
    status, _, _ = post(loki, body, headers={"Content-Encoding": "gzip"})
    assert status == 204
    assert loki.streams() == {(("app", "z"),): [(NOW_NS, "zipped", {})]}
    assert loki.requests[0].content_encoding == "gzip"


def test_protobuf_snappy_push_with_escaped_labels(loki: LokiReceiver) -> None:
    labels = '{app="x", q="say \\"hi\\"\\n\\\\"}'
    body = pb_body((labels, [(NOW_NS + 7, "pb line", {"trace_id": "abc"}), (NOW_NS + 8, "é", {})]))
    status, text, _ = post(loki, body, "application/x-protobuf")
    assert (status, text) == (204, "")
    assert loki.streams() == {
        (("app", "x"), ("q", 'say "hi"\n\\')): [
            (NOW_NS + 7, "pb line", {"trace_id": "abc"}),
            (NOW_NS + 8, "é", {}),
        ]
    }
    assert loki.requests[0].n_entries == 2


def test_keep_alive_serves_several_requests_on_one_connection(loki: LokiReceiver) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", loki.port, timeout=10)
    for i in range(3):
        status, _, _ = post(loki, json_body(({"a": "b"}, [[str(NOW_NS + i), "x"]])), conn=conn)
        assert status == 204
    conn.request("GET", "/ready")
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"ready")
    conn.close()
    assert loki.entries_count() == 3


def test_chunked_deflate_push(loki: LokiReceiver) -> None:
    body = zlib.compress(json_body(({"a": "b"}, [[str(NOW_NS), "chunked"]])))
    conn = http.client.HTTPConnection("127.0.0.1", loki.port, timeout=10)
    headers = {"Content-Type": "application/json", "Content-Encoding": "deflate"}
    conn.request("POST", PUSH_PATH, iter([body[:5], body[5:]]), headers, encode_chunked=True)
    assert conn.getresponse().status == 204
    conn.close()
    assert loki.streams() == {(("a", "b"),): [(NOW_NS, "chunked", {})]}


def test_requests_record_headers(loki: LokiReceiver) -> None:
    hdrs = {"X-Scope-OrgID": "tenant-1", "Authorization": "Basic dTpw"}
    post(loki, json_body(({"a": "b"}, [[str(NOW_NS), "x"]])), headers=hdrs)
    assert loki.wait_for_requests(1, timeout=5)
    (rec,) = loki.requests
    assert rec.status == 204 and rec.n_entries == 1 and rec.n_accepted == 1
    assert rec.content_type == "application/json"
    assert rec.headers["X-Scope-OrgID"] == "tenant-1"
    assert rec.header("authorization") == "Basic dTpw"


def test_missing_content_type_means_protobuf_and_charset_is_ignored(loki: LokiReceiver) -> None:
    c = http.client.HTTPConnection("127.0.0.1", loki.port, timeout=10)
    c.putrequest("POST", PUSH_PATH)
    body = pb_body(('{a="b"}', [(NOW_NS, "no type", {})]))
    c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    assert c.getresponse().status == 204
    c.close()
    body = json_body(({"a": "b"}, [[str(NOW_NS + 1), "json"]]))
    assert post(loki, body, "application/json; charset=utf-8")[0] == 204
    assert [e[1] for e in loki.streams()[(("a", "b"),)]] == ["no type", "json"]


def test_clear_forgets_everything(loki: LokiReceiver) -> None:
    loki.fail_next(500)
    loki.reject_stream({"a": "b"})
    loki.clear()
    assert push_json(loki, ({"a": "b"}, [[str(NOW_NS), "x"]]))[0] == 204
    loki.clear()
    assert (loki.entries_count(), loki.streams(), loki.requests) == (0, {}, [])
    assert push_json(loki, ({"a": "b"}, [[str(NOW_NS), "x"]]))[0] == 204  # not a duplicate
    assert loki.duplicates == 0


def test_waits_time_out_without_data(loki: LokiReceiver) -> None:
    assert not loki.wait_for_entries(1, timeout=0.01)
    assert not loki.wait_for_requests(1, timeout=0.01)


def test_concurrent_pushes_are_all_counted(loki: LokiReceiver) -> None:
    def worker(w: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", loki.port, timeout=10)
        for i in range(20):
            post(loki, json_body(({"w": str(w)}, [[str(NOW_NS + i), "x"]])), conn=conn)
        conn.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert loki.wait_for_entries(160, timeout=5)
    assert loki.wait_for_requests(160, timeout=5)
    assert len(loki.streams()) == 8


# --- Loki validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{}", {}),
        ('{a="1"}', {"a": "1"}),
        (' { a = "1" ,b="x\\"y" } ', {"a": "1", "b": 'x"y'}),
        ('{_x9="\\\\\\n"}', {"_x9": "\\\n"}),
    ],
)
def test_parse_labels_accepts(text: str, expected: dict[str, str]) -> None:
    assert parse_labels(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        'a="1"',
        '{a="1"',
        '{a="1",}',
        '{9a="1"}',
        '{a-b="1"}',
        "{a=1}",
        '{a="1" b="2"}',
        '{a="\\t"}',
        '{a="1"} x',
        '{a="1", a="2"}',
        '{a="unterminated}',
    ],
)
def test_parse_labels_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_labels(text)


def test_format_labels_round_trips() -> None:
    labels = {"b": 'q"\n\\', "a": "1"}
    assert format_labels(labels) == '{a="1", b="q\\"\\n\\\\"}'
    assert parse_labels(format_labels(labels)) == labels


def test_bad_labels_rejected_but_other_streams_stored(loki: LokiReceiver) -> None:
    body = pb_body(
        ("{app=oops}", [(NOW_NS, "bad", {})]),
        ("{}", [(NOW_NS, "none", {})]),
        ('{app="ok"}', [(NOW_NS, "good", {})]),
    )
    status, text, _ = post(loki, body, "application/x-protobuf")
    assert status == 400
    lines = text.split("\n")
    assert lines[0].startswith("Error parsing labels '{app=oops}' with error: ")
    assert lines[1] == "error at least one label pair is required per stream"
    assert loki.streams() == {(("app", "ok"),): [(NOW_NS, "good", {})]}
    assert loki.rejected == 2


def test_json_invalid_label_name(loki: LokiReceiver) -> None:
    status, text, _ = push_json(loki, ({"bad-name": "x"}, [[str(NOW_NS), "l"]]))
    assert status == 400
    assert text.startswith("Error parsing labels '{bad-name=\"x\"}' with error: ")


def test_line_too_long_rejected_others_kept() -> None:
    with LokiReceiver(max_line_size=10) as loki:
        status, text, _ = push_json(
            loki, ({"a": "b"}, [[str(NOW_NS), "short"], [str(NOW_NS + 1), "ééééééé"]])
        )
        assert status == 400
        assert text == (
            "Max entry size '10' bytes exceeded for stream '{a=\"b\"}' "
            "while adding an entry with length '14' bytes"
        )
        assert loki.streams() == {(("a", "b"),): [(NOW_NS, "short", {})]}


def test_too_old_rejected() -> None:
    with LokiReceiver(reject_older_than=60, clock=lambda: NOW_S + 0.5) as loki:
        old = NOW_NS - 60 * 10**9 + 1
        status, text, _ = push_json(loki, ({"a": "b"}, [[str(old), "old"], [str(NOW_NS), "ok"]]))
        assert status == 400
        assert text == (
            "entry for stream '{a=\"b\"}' has timestamp too old: 2023-11-14T22:12:20.000000001Z, "
            "oldest acceptable timestamp is: 2023-11-14T22:12:20.500000000Z"
        )
        assert loki.entries_count() == 1


def test_out_of_order_window(loki: LokiReceiver) -> None:
    hour = 3600 * 10**9
    status, _, _ = push_json(
        loki, ({"a": "b"}, [[str(NOW_NS), "new"], [str(NOW_NS - hour), "edge of window"]])
    )
    assert status == 204
    status, text, _ = push_json(loki, ({"a": "b"}, [[str(NOW_NS - hour - 1), "too far"]]))
    assert status == 400
    assert text == (
        "entry with timestamp 2023-11-14T21:13:19.999999999Z ignored, reason: 'entry too far "
        "behind, entry timestamp is: 2023-11-14T21:13:19.999999999Z, "
        "oldest acceptable timestamp is: 2023-11-14T21:13:20.000000000Z'"
    )
    # the window is per stream
    assert push_json(loki, ({"a": "c"}, [[str(NOW_NS - hour - 1), "other"]]))[0] == 204
    assert loki.entries_count() == 3


def test_exact_duplicates_are_dropped_silently(loki: LokiReceiver) -> None:
    entries = [[str(NOW_NS), "x"], [str(NOW_NS), "x"], [str(NOW_NS), "y"]]
    assert push_json(loki, ({"a": "b"}, entries))[0] == 204
    assert push_json(loki, ({"a": "b"}, [[str(NOW_NS), "x"]]))[0] == 204
    assert loki.streams() == {(("a", "b"),): [(NOW_NS, "x", {}), (NOW_NS, "y", {})]}
    assert loki.duplicates == 2


@pytest.mark.parametrize(
    ("body", "ctype", "encoding", "status", "fragment"),
    [
        (b"{not json", "application/json", None, 400, "malformed JSON"),
        (b'{"streams": 3}', "application/json", None, 400, "malformed JSON"),
        (json_body(({"a": "b"}, [[123, "x"]])), "application/json", None, 400, "timestamp"),
        (json_body(({"a": "b"}, [["1", 5]])), "application/json", None, 400, "line"),
        (b"not snappy at all", "application/x-protobuf", None, 400, "snappy"),
        (
            bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff")),
            "application/x-protobuf",
            None,
            400,
            "protobuf",
        ),
        (b"not gzip", "application/json", "gzip", 400, "gzip"),
        (b"{}", "application/json", "br", 415, "not supported"),
    ],
)
def test_malformed_bodies(
    loki: LokiReceiver, body: bytes, ctype: str, encoding: str | None, status: int, fragment: str
) -> None:
    headers = {"Content-Encoding": encoding} if encoding else {}
    got, text, _ = post(loki, body, ctype, headers)
    assert got == status
    assert fragment in text
    assert loki.entries_count() == 0


# --- scripted failures -----------------------------------------------------------------


def test_fail_next_answers_without_storing(loki: LokiReceiver) -> None:
    loki.fail_next(429, times=2, body="slow down", headers={"Retry-After": "1"})
    body = json_body(({"a": "b"}, [[str(NOW_NS), "x"]]))
    for _ in range(2):
        status, text, resp = post(loki, body)
        assert (status, text, resp.getheader("Retry-After")) == (429, "slow down", "1")
    assert loki.entries_count() == 0
    assert post(loki, body)[0] == 204
    assert [r.status for r in loki.requests] == [429, 429, 204]
    assert loki.entries_count() == 1


def test_reject_stream_keeps_other_streams(loki: LokiReceiver) -> None:
    loki.reject_stream({"team": "x"}, status=429, message="rate limited")
    status, text, _ = push_json(
        loki,
        ({"team": "x", "app": "1"}, [[str(NOW_NS), "no"]]),
        ({"team": "y"}, [[str(NOW_NS), "yes"]]),
    )
    assert (status, text) == (429, "rate limited")
    assert loki.streams() == {(("team", "y"),): [(NOW_NS, "yes", {})]}


# --- lifecycle -------------------------------------------------------------------------


def test_ready_and_unknown_paths(loki: LokiReceiver) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", loki.port, timeout=10)
    for path, status in [("/ready", 200), ("/nope", 404), (PUSH_PATH, 405)]:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == status
    conn.close()


def test_stop_refuses_and_down_up_reuses_port() -> None:
    loki = LokiReceiver().start()
    port, url = loki.port, loki.url
    assert url == f"http://127.0.0.1:{port}"
    kept = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    assert post(loki, json_body(({"a": "b"}, [[str(NOW_NS), "1"]])), conn=kept)[0] == 204
    loki.down()
    with pytest.raises(ConnectionRefusedError):
        post(loki, b"{}")
    with pytest.raises((http.client.HTTPException, OSError)):
        post(loki, b"{}", conn=kept)  # the kept-alive connection was closed too
    kept.close()
    loki.up()
    assert loki.port == port
    assert post(loki, json_body(({"a": "b"}, [[str(NOW_NS + 1), "2"]])))[0] == 204
    assert loki.entries_count() == 2
    loki.stop()
    with pytest.raises(ConnectionRefusedError):
        post(loki, b"{}")


@pytest.mark.parametrize("how", ["stdin", "sigterm"])
def test_main_process_prints_port_and_totals(how: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "logflume.testing.loki_receiver", "--port", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        first = proc.stdout.readline().split()
        assert first[0] == "LISTENING"
        port = int(first[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json_body(({"a": "b"}, [[str(NOW_NS), "x"], [str(NOW_NS + 1), "y"]]))
        conn.request("POST", PUSH_PATH, body, {"Content-Type": "application/json"})
        assert conn.getresponse().status == 204
        conn.close()
        if how == "sigterm":
            proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)  # closes stdin: the receiver exits
        assert "TOTALS entries=2 requests=1" in out
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
