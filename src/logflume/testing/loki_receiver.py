"""A fake Grafana Loki push endpoint, faithful enough to test and benchmark Loki clients.

It speaks the real push API (``POST /loki/api/v1/push``): JSON or snappy-compressed
protobuf (``logproto.PushRequest``), optionally gzip/deflate encoded, and applies
Loki's own checks with Loki's messages: label syntax, at least one label, maximum line
size, too-old timestamps, the per-stream out-of-order window and silent deduplication
of exact duplicates. Like Loki, valid entries of a push are stored even when others
are rejected (the answer is then 400). Failures can be scripted (``fail_next``,
``reject_stream``) and the server taken ``down()`` and back ``up()`` on the same port.
Not modelled: rate limits, per-tenant limits, future timestamps, queries.

Standalone: ``python -m logflume.testing.loki_receiver --port 0`` prints
``LISTENING <port>`` and serves until stdin closes or SIGTERM, then prints ``TOTALS ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.server
import json
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from functools import cache
from typing import Any, NamedTuple

__all__ = ["PUSH_PATH", "LokiReceiver", "ReceivedRequest", "ReceiverProcess", "StreamKey"]
__all__ += ["format_labels"]
__all__ += ["main", "parse_labels", "push_request_class", "rfc3339"]

PUSH_PATH = "/loki/api/v1/push"
StreamKey = tuple[tuple[str, str], ...]
"""A stream's labels as a tuple of ``(name, value)`` pairs sorted by name."""
Entry = tuple[int, str, dict[str, str]]
"""``(timestamp ns, line, structured metadata)``."""

MISSING_LABELS = "error at least one label pair is required per stream"
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TS = re.compile(r"-?[0-9]{1,19}")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
_PAIR = re.compile(r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\\n]|\\.)*)"[ \t]*([,}])')
_ESCAPE = re.compile(r"\\(.)", re.S)
_EMPTY_LABELS = re.compile(r"\{[ \t]*\}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS = 1_000_000_000


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class _Stream(NamedTuple):
    text: str  # labels as sent (protobuf) or formatted (JSON), for messages
    labels: dict[str, str] | None  # None: parse ``text``
    entries: list[Entry]


@dataclass(frozen=True)
class ReceivedRequest:
    """One push request as received (``n_entries`` is 0 when the body was not decoded)."""

    status: int
    content_type: str
    content_encoding: str
    n_entries: int
    n_accepted: int
    headers: dict[str, str]
    time: float  # time.monotonic() when answered
    body_size: int

    def header(self, name: str, default: str | None = None) -> str | None:
        """Header value, name matched case-insensitively."""
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), default)


def rfc3339(ts_ns: int) -> str:
    """``2024-01-02T03:04:05.000000006Z``: UTC, always nine fraction digits."""
    sec, ns = divmod(ts_ns, _NS)
    try:
        return f"{(_EPOCH + timedelta(seconds=sec)):%Y-%m-%dT%H:%M:%S}.{ns:09d}Z"
    except OverflowError:
        return f"{ts_ns}ns"


def format_labels(labels: Mapping[str, str]) -> str:
    """Prometheus form ``{a="1", b="x\\"y"}``, sorted by name (Loki's canonical form)."""
    esc = {"\\": "\\\\", '"': '\\"', "\n": "\\n"}
    parts = (f'{k}="{"".join(esc.get(c, c) for c in v)}"' for k, v in sorted(labels.items()))
    return "{" + ", ".join(parts) + "}"


def parse_labels(text: str) -> dict[str, str]:
    r"""Strictly parse ``{name="value", ...}`` (escapes ``\\ \" \n``); ``ValueError`` says why."""
    s = text.strip(" \t")
    if _EMPTY_LABELS.fullmatch(s):
        return {}
    if not s.startswith("{"):
        raise ValueError("expected '{' at position 0")
    labels: dict[str, str] = {}
    i, closed = 1, False
    while not closed:
        m = _PAIR.match(s, i)
        if m is None:
            raise ValueError(f"expected name=\"value\" then ',' or '}}' at position {i}")
        if m[1] in labels:
            raise ValueError(f"duplicate label name {m[1]!r}")
        labels[m[1]] = _ESCAPE.sub(_unescape, m[2])
        i, closed = m.end(), m[3] == "}"
    if i != len(s):
        raise ValueError(f"unexpected text after '}}' at position {i}")
    return labels


def _unescape(m: re.Match[str]) -> str:
    if m[1] not in _ESCAPES:
        raise ValueError(f"invalid escape '\\{m[1]}'")
    return _ESCAPES[m[1]]


@cache
def push_request_class() -> Any:
    """The ``logproto.PushRequest`` message class, built at run time in a private pool."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

    fdp = descriptor_pb2.FileDescriptorProto(name="logflume_fake_loki.proto", package="logproto")
    fdp.syntax = "proto3"
    fdp.dependency.append("google/protobuf/timestamp.proto")
    f = descriptor_pb2.FieldDescriptorProto
    opt, rep, msg, s = f.LABEL_OPTIONAL, f.LABEL_REPEATED, f.TYPE_MESSAGE, f.TYPE_STRING
    schema: dict[str, list[tuple[str, int, int, int, str]]] = {
        "PushRequest": [("streams", 1, msg, rep, ".logproto.StreamAdapter")],
        "StreamAdapter": [
            ("labels", 1, s, opt, ""),
            ("entries", 2, msg, rep, ".logproto.EntryAdapter"),
            ("hash", 3, f.TYPE_UINT64, opt, ""),
        ],
        "EntryAdapter": [
            ("timestamp", 1, msg, opt, ".google.protobuf.Timestamp"),
            ("line", 2, s, opt, ""),
            ("structuredMetadata", 3, msg, rep, ".logproto.LabelPairAdapter"),
        ],
        "LabelPairAdapter": [("name", 1, s, opt, ""), ("value", 2, s, opt, "")],
    }
    for name, fields in schema.items():
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            fd = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                fd.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    ts = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(ts)
    pool.Add(ts)
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


def _decode_protobuf(body: bytes) -> list[_Stream]:
    import cramjam
    from google.protobuf.message import DecodeError

    try:
        raw = bytes(cramjam.snappy.decompress_raw(body))
    except Exception as e:  # cramjam raises its own DecompressionError
        raise _HTTPError(400, f"snappy decompression of the push body failed: {e}") from e
    req = push_request_class()()
    try:
        req.ParseFromString(raw)
    except DecodeError as e:
        raise _HTTPError(400, f"malformed protobuf PushRequest: {e}") from e

    def entry(e: Any) -> Entry:
        ts = e.timestamp
        return ts.seconds * _NS + ts.nanos, e.line, {p.name: p.value for p in e.structuredMetadata}

    return [_Stream(s.labels, None, [entry(e) for e in s.entries]) for s in req.streams]


def _is_str_map(v: object) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for kv in v.items() for x in kv)


def _decode_json(body: bytes) -> list[_Stream]:
    def bad(why: str) -> _HTTPError:
        return _HTTPError(400, f"malformed JSON push body: {why}")

    try:
        doc = json.loads(body)
    except ValueError as e:
        raise bad(str(e)) from e
    if not isinstance(doc, dict) or not isinstance(doc.get("streams"), list):
        raise bad('expected {"streams": [...]}')
    out: list[_Stream] = []
    for s in doc["streams"]:
        labels, values = (
            (s.get("stream", {}), s.get("values", [])) if isinstance(s, dict) else ({}, 0)
        )
        if not _is_str_map(labels) or not isinstance(values, list):
            raise bad('each stream needs "stream": {str: str} and "values": [...]')
        entries: list[Entry] = []
        for v in values:
            if not isinstance(v, list) or len(v) not in (2, 3):
                raise bad(f"entry {v!r} is not [ts, line] or [ts, line, metadata]")
            ts, line, meta = v[0], v[1], v[2] if len(v) == 3 else {}
            if not isinstance(ts, str) or not _TS.fullmatch(ts) or abs(int(ts)) >= 2**63:
                raise bad(f"timestamp {ts!r} is not a string of unix nanoseconds")
            if not isinstance(line, str) or not _is_str_map(meta):
                raise bad("a line must be a string and metadata a {str: str} object")
            entries.append((int(ts), line, dict(meta)))
        out.append(_Stream(format_labels(labels), dict(labels), entries))
    return out


def _decode(headers: Message[str, str], body: bytes) -> list[_Stream]:
    encoding = headers.get("Content-Encoding", "").strip().lower()
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding not in ("", "identity"):
            raise _HTTPError(415, f"Content-Encoding {encoding!r} not supported")
    except (OSError, EOFError, zlib.error) as e:
        raise _HTTPError(400, f"{encoding} decompression of the push body failed: {e}") from e
    mime = headers.get("Content-Type", "").split(";")[0].strip().lower()
    # Like Loki: anything but JSON (including no Content-Type) is snappy protobuf.
    return _decode_json(body) if mime == "application/json" else _decode_protobuf(body)


class LokiReceiver:
    """A fake Loki in a daemon thread; all methods are thread-safe.

    ``max_line_size`` of 0 disables the size check; ``clock`` (seconds) is only used for
    ``reject_older_than``. Stored data survives ``down()``/``up()`` and ``stop()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        max_line_size: int = 256 * 1024,
        out_of_order_window: float = 3600.0,
        reject_older_than: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host, self.max_line_size, self.clock = host, max_line_size, clock
        self.out_of_order_window, self.reject_older_than = out_of_order_window, reject_older_than
        self._requested_port, self._port = port, None if port == 0 else port
        self._life = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self.clear()

    def clear(self) -> None:
        """Forget stored entries, requests, counters, scripted failures and rejections."""
        with self._cond:
            self._streams: dict[StreamKey, list[Entry]] = {}
            self._seen: dict[StreamKey, set[tuple[int, str]]] = {}
            self._newest: dict[StreamKey, int] = {}
            self._requests: list[ReceivedRequest] = []
            self._failures: deque[tuple[int, str, dict[str, str]]] = deque()
            self._rules: list[tuple[dict[str, str], int, str]] = []
            self._count = self._duplicates = self._rejected = 0

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> LokiReceiver:
        """Listen on the constructor's port (a fresh ephemeral one if it was 0)."""
        self._listen(self._requested_port)
        return self

    def stop(self) -> None:
        """Close the listening socket and every open connection (clients get refused)."""
        with self._life:
            server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None and thread is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
            thread.join()

    def down(self) -> None:
        """Like ``stop()``, keeping the port for ``up()``."""
        self.stop()

    def up(self) -> None:
        """Listen again on the port last used."""
        if self._port is None:
            raise RuntimeError("LokiReceiver was never started")
        self._listen(self._port)

    def _listen(self, port: int) -> None:
        with self._life:
            if self._server is not None:
                raise RuntimeError("LokiReceiver is already listening")
            self._server = _Server((self.host, port), self)
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"loki-receiver:{self._port}",
                daemon=True,
            )
            self._thread.start()

    def __enter__(self) -> LokiReceiver:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port listened on (or last listened on)."""
        if self._port is None:
            raise RuntimeError("LokiReceiver was never started")
        return self._port

    @property
    def url(self) -> str:
        """``http://<host>:<port>``; the push URL is ``url + PUSH_PATH``."""
        return f"http://{self.host}:{self.port}"

    # --- scripting ------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        body: str = "scripted failure",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` pushes with this response, without storing them."""
        with self._cond:
            self._failures.extend([(status, body, dict(headers or {}))] * times)

    def reject_stream(
        self, labels: Mapping[str, str], status: int = 400, message: str = "stream rejected"
    ) -> None:
        """Reject entries of streams whose labels include ``labels`` (one message a stream)."""
        with self._cond:
            self._rules.append((dict(labels), status, message))

    # --- stored data ----------------------------------------------------------------------

    def streams(self) -> dict[StreamKey, list[Entry]]:
        """Stored entries by stream (sorted label pairs), each list in acceptance order."""
        with self._cond:
            return {k: list(v) for k, v in self._streams.items()}

    def entries_count(self) -> int:
        """Entries stored (duplicates and rejected entries excluded)."""
        with self._cond:
            return self._count

    @property
    def duplicates(self) -> int:
        """Exact duplicates received and silently dropped."""
        with self._cond:
            return self._duplicates

    @property
    def rejected(self) -> int:
        """Entries rejected by validation or ``reject_stream`` (not by ``fail_next``)."""
        with self._cond:
            return self._rejected

    @property
    def requests(self) -> list[ReceivedRequest]:
        """A copy of the push requests answered so far, in order."""
        with self._cond:
            return list(self._requests)

    def wait_for_entries(self, n: int, timeout: float) -> bool:
        """Wait until at least ``n`` entries are stored; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count >= n, timeout)

    def wait_for_requests(self, n: int, timeout: float) -> bool:
        """Wait until at least ``n`` push requests were answered; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._requests) >= n, timeout)

    # --- push handling --------------------------------------------------------------------

    def _push(self, headers: Message[str, str], body: bytes) -> tuple[int, str, dict[str, str]]:
        with self._cond:
            failure = self._failures.popleft() if self._failures else None
        streams: list[_Stream] = []
        accepted = 0
        if failure is not None:
            status, text, extra = failure
        else:
            extra = {}
            try:
                streams = _decode(headers, body)
                status, text, accepted = self._ingest(streams)
            except _HTTPError as e:
                status, text = e.status, e.message
        ctype, encoding = headers.get("Content-Type", ""), headers.get("Content-Encoding", "")
        n_entries = sum(len(s.entries) for s in streams)
        record = ReceivedRequest(
            status, ctype, encoding, n_entries, accepted, dict(headers), time.monotonic(), len(body)
        )
        with self._cond:
            self._requests.append(record)
            self._cond.notify_all()
        return status, text, extra

    def _ingest(self, streams: Iterable[_Stream]) -> tuple[int, str, int]:
        errors: list[str] = []
        rule_status: int | None = None
        accepted = 0
        window = round(self.out_of_order_window * _NS)
        oldest = None
        if self.reject_older_than is not None:
            oldest = round(self.clock() * _NS) - round(self.reject_older_than * _NS)
        with self._cond:
            for s in streams:
                try:
                    labels = parse_labels(s.text) if s.labels is None else s.labels
                    bad = next((k for k in labels if not _LABEL_NAME.fullmatch(k)), None)
                    if bad is not None:
                        raise ValueError(f"invalid label name {bad!r}")
                except ValueError as e:
                    errors.append(f"Error parsing labels '{s.text}' with error: {e}")
                    self._rejected += len(s.entries)
                    continue
                if not labels:
                    errors.append(MISSING_LABELS)
                    self._rejected += len(s.entries)
                    continue
                rule = next((r for r in self._rules if r[0].items() <= labels.items()), None)
                if rule is not None:
                    errors.append(rule[2])
                    rule_status = rule[1] if rule_status is None else rule_status
                    self._rejected += len(s.entries)
                    continue
                key, text = tuple(sorted(labels.items())), format_labels(labels)
                for ts, line, meta in s.entries:
                    error = self._check(key, text, ts, line, window, oldest)
                    if error is not None:
                        errors.append(error)
                        self._rejected += 1
                    elif (ts, line) in self._seen.get(key, ()):
                        self._duplicates += 1
                    else:
                        self._streams.setdefault(key, []).append((ts, line, meta))
                        self._seen.setdefault(key, set()).add((ts, line))
                        self._newest[key] = max(ts, self._newest.get(key, ts))
                        accepted += 1
            self._count += accepted
            self._cond.notify_all()
        if not errors:
            return 204, "", accepted
        return rule_status or 400, "\n".join(errors), accepted

    def _check(
        self, key: StreamKey, text: str, ts: int, line: str, window: int, oldest: int | None
    ) -> str | None:
        limit = self.max_line_size
        if limit and len(line) * 4 > limit and (size := len(line.encode())) > limit:
            return (
                f"Max entry size '{limit}' bytes exceeded for stream '{text}' "
                f"while adding an entry with length '{size}' bytes"
            )
        if oldest is not None and ts < oldest:
            return (
                f"entry for stream '{text}' has timestamp too old: {rfc3339(ts)}, "
                f"oldest acceptable timestamp is: {rfc3339(oldest)}"
            )
        newest = self._newest.get(key)
        if newest is not None and ts < newest - window:
            return (
                f"entry with timestamp {rfc3339(ts)} ignored, reason: 'entry too far behind, "
                f"entry timestamp is: {rfc3339(ts)}, "
                f"oldest acceptable timestamp is: {rfc3339(newest - window)}'"
            )
        return None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], receiver: LokiReceiver) -> None:
        self.receiver = receiver
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn(), which may hit DNS
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client going away is not news
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:  # runs in serve_forever: none after shutdown() returns
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/ready":
            self._reply(200, "ready")
        else:
            self._reply(405 if path == PUSH_PATH else 404, f"{self.command} {path}: not found")

    def do_POST(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, _HTTPError) as e:
            self.close_connection = True
            self._reply(400, f"bad request body: {e}")
            return
        if self.path.split("?", 1)[0] != PUSH_PATH:
            self._reply(404, f"POST {self.path}: not found")
            return
        status, text, headers = self.server.receiver._push(self.headers, body)
        self._reply(status, text, headers)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline(1024).split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length)

    def _reply(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:  # a 204 carries no body and (RFC 9110) no Content-Length
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)


class ReceiverProcess:
    """A receiver in a subprocess (``main()``): its own GIL for benchmarks, and a real
    process a test can stop with ``SIGSTOP``. ``totals()`` ends it and reads its counts."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "logflume.testing.loki_receiver", "--port", "0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if line[:1] != ["LISTENING"]:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"the fake Loki did not start: {line!r}")
        self.pid = self.proc.pid
        self.url = f"http://127.0.0.1:{line[1]}"

    def totals(self, timeout: float = 60) -> dict[str, int]:
        """Stop it (stdin closed); what it stored: ``entries``, ``requests``, ``duplicates``,
        ``rejected`` (empty if it printed none)."""
        out, _ = self.proc.communicate(timeout=timeout)
        for line in out.splitlines():
            if line.startswith("TOTALS"):
                return {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}
        return {}


def main(argv: list[str] | None = None) -> int:
    """Serve until stdin closes or SIGTERM/SIGINT; print ``LISTENING``/``TOTALS`` lines."""
    p = argparse.ArgumentParser(prog="python -m logflume.testing.loki_receiver")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-line-size", type=int, default=256 * 1024)
    p.add_argument("--out-of-order-window", type=float, default=3600.0)
    p.add_argument("--reject-older-than", type=float, default=None)
    args = p.parse_args(argv)
    done = threading.Event()

    def watch_stdin() -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):  # AttributeError: no stdin
            while sys.stdin.buffer.read(65536):
                pass
        done.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    with LokiReceiver(
        args.host, args.port, args.max_line_size, args.out_of_order_window, args.reject_older_than
    ) as receiver:
        print(f"LISTENING {receiver.port}", flush=True)
        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
        while not done.wait(1.0):
            pass
    print(
        f"TOTALS entries={receiver.entries_count()} requests={len(receiver.requests)} "
        f"duplicates={receiver.duplicates} rejected={receiver.rejected}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
