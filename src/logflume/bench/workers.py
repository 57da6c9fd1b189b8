"""One benchmark worker per library; ``python -m logflume.bench.workers LIB N PATH`` prints JSON.

Every worker logs the same record — ``info("user login", user_id=i, ip=..., ok=True)``
as one JSON line to a file — times each call, then waits until everything is
written and fsynced. Throughput is records / (first call .. durably flushed).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from .measure import disabled_cost_ns, fsync_path, result, time_calls

IP = "10.0.0.1"


class OrjsonFormatter(logging.Formatter):
    """A JSON-lines formatter for stdlib logging, as fast as stdlib allows (orjson)."""

    _skip = frozenset(logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__) | {
        "message",
        "taskName",
    }

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._skip:
                out[key] = value
        return orjson.dumps(out, default=repr).decode()


def stdlib_logger(handler: logging.Handler) -> logging.Logger:
    """The ``bench`` stdlib logger, at INFO, with ``handler`` as its only handler."""
    logger = logging.getLogger("bench")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def bench_logflume(records: int, path: str) -> dict[str, Any]:
    import logflume

    logflume.configure(sinks=[logflume.FileSink(path)], level="INFO")
    log = logflume.get_logger("bench")
    disabled = disabled_cost_ns(lambda i: log.debug("user login", user_id=i, ip=IP, ok=True))
    samples, start = time_calls(
        lambda i: log.info("user login", user_id=i, ip=IP, ok=True), records
    )
    flushed = logflume.flush(timeout=120)
    fsync_path(path)
    end = time.perf_counter()
    stats = logflume.stats()
    logflume.shutdown()
    return result(
        samples,
        start,
        end,
        records,
        disabled_ns=disabled,
        flushed=flushed,
        dropped=stats["dropped"],
    )


def bench_stdlib_file(records: int, path: str) -> dict[str, Any]:
    handler = logging.FileHandler(path)
    handler.setFormatter(OrjsonFormatter())
    logger = stdlib_logger(handler)
    disabled = disabled_cost_ns(
        lambda i: logger.debug("user login", extra={"user_id": i, "ip": IP, "ok": True})
    )
    samples, start = time_calls(
        lambda i: logger.info("user login", extra={"user_id": i, "ip": IP, "ok": True}), records
    )
    handler.flush()
    fsync_path(path)
    end = time.perf_counter()
    handler.close()
    return result(samples, start, end, records, disabled_ns=disabled)


def bench_stdlib_queue(records: int, path: str) -> dict[str, Any]:
    import queue
    from logging.handlers import QueueHandler, QueueListener

    file_handler = logging.FileHandler(path)
    file_handler.setFormatter(OrjsonFormatter())
    q: queue.Queue[Any] = queue.Queue(-1)
    listener = QueueListener(q, file_handler)
    listener.start()
    logger = stdlib_logger(QueueHandler(q))
    disabled = disabled_cost_ns(
        lambda i: logger.debug("user login", extra={"user_id": i, "ip": IP, "ok": True})
    )
    samples, start = time_calls(
        lambda i: logger.info("user login", extra={"user_id": i, "ip": IP, "ok": True}), records
    )
    listener.stop()  # drains the queue
    file_handler.flush()
    fsync_path(path)
    end = time.perf_counter()
    file_handler.close()
    return result(samples, start, end, records, disabled_ns=disabled)


def _bench_loguru(records: int, path: str, enqueue: bool) -> dict[str, Any]:
    from loguru import logger

    logger.remove()
    handler_id = logger.add(path, serialize=True, enqueue=enqueue, level="INFO")
    log = logger.bind(logger_name="bench")
    disabled = disabled_cost_ns(lambda i: log.debug("user login", user_id=i, ip=IP, ok=True))
    samples, start = time_calls(
        lambda i: log.info("user login", user_id=i, ip=IP, ok=True), records
    )
    logger.complete()
    logger.remove(handler_id)  # closes the file after the queue is drained
    fsync_path(path)
    end = time.perf_counter()
    return result(samples, start, end, records, disabled_ns=disabled)


def bench_loguru(records: int, path: str) -> dict[str, Any]:
    return _bench_loguru(records, path, enqueue=False)


def bench_loguru_enqueue(records: int, path: str) -> dict[str, Any]:
    return _bench_loguru(records, path, enqueue=True)


def bench_structlog(records: int, path: str) -> dict[str, Any]:
    import structlog

    out = open(path, "wb")  # noqa: SIM115 - closed below, after the timed section
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.BytesLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger(
        "bench"
    ).bind()  # the bound logger, as structlog advises for hot paths
    disabled = disabled_cost_ns(lambda i: log.debug("user login", user_id=i, ip=IP, ok=True))
    samples, start = time_calls(
        lambda i: log.info("user login", user_id=i, ip=IP, ok=True), records
    )
    out.flush()
    os.fsync(out.fileno())
    end = time.perf_counter()
    out.close()
    return result(samples, start, end, records, disabled_ns=disabled)


WORKERS: dict[str, Callable[[int, str], dict[str, Any]]] = {
    "logflume": bench_logflume,
    "stdlib_file": bench_stdlib_file,
    "stdlib_queue": bench_stdlib_queue,
    "loguru": bench_loguru,
    "loguru_enqueue": bench_loguru_enqueue,
    "structlog": bench_structlog,
}


def main(argv: list[str]) -> int:
    name, records, path = argv[0], int(argv[1]), argv[2]
    metrics = WORKERS[name](records, path)
    with open(path, "rb") as written:
        metrics["lines_written"] = sum(1 for _ in written)
    sys.stdout.write(orjson.dumps(metrics).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
