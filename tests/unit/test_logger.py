"""Logger API: levels, bind, exception(), level checks, source capture."""

from __future__ import annotations

import logflume
from logflume.testing import Capture


def test_records_carry_level_logger_message_context_and_fields(logflume_capture: Capture) -> None:
    log = logflume.get_logger("checkout").bind(service="shop")
    log.info("user login", user_id=7, ip="10.0.0.1")
    [record] = logflume_capture.assert_logged("user login", level="info", logger="checkout")
    assert record.all_fields() == {"service": "shop", "user_id": 7, "ip": "10.0.0.1"}
    line = logflume_capture.dicts()[0]
    assert list(line)[:4] == ["ts", "level", "logger", "msg"]
    assert line["ts"].endswith("Z") and len(line["ts"]) == len("2026-11-25T10:00:00.123456Z")


def test_bind_returns_a_new_logger_and_leaves_the_original_unchanged(
    logflume_capture: Capture,
) -> None:
    base = logflume.get_logger("svc", region="eu")
    child = base.bind(request_id="r1")
    assert dict(base.context) == {"region": "eu"}
    assert dict(child.context) == {"region": "eu", "request_id": "r1"}
    assert dict(child.unbind("region").context) == {"request_id": "r1"}
    assert dict(child.new(only=1).context) == {"only": 1}
    base.info("from base")
    child.info("from child", request_id="override")
    logflume_capture.assert_logged("from base", region="eu")
    [rec] = logflume_capture.assert_logged("from child", request_id="override")
    assert "request_id" not in base.context and rec.context["request_id"] == "r1"


def test_every_level_method_logs_at_its_level(logflume_capture: Capture) -> None:
    log = logflume.get_logger("lv")
    for name in ("trace", "debug", "info", "warning", "error", "critical"):
        getattr(log, name)(f"at {name}")
    log.warn("at warn")
    log.log("error", "via log()")
    log.log(logflume.INFO, "via log() int")
    names = [(r.msg, r.level_name) for r in logflume_capture.records]
    assert names == [
        ("at trace", "trace"),
        ("at debug", "debug"),
        ("at info", "info"),
        ("at warning", "warning"),
        ("at error", "error"),
        ("at critical", "critical"),
        ("at warn", "warning"),
        ("via log()", "error"),
        ("via log() int", "info"),
    ]


def test_disabled_levels_are_not_queued_and_is_enabled_for_agrees() -> None:
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink], level="warning")
    log = logflume.get_logger("lv")
    log.debug("hidden")
    log.info("hidden")
    log.exception("hidden at error? no: error is enabled")
    log.warning("shown")
    assert logflume.flush(timeout=5)
    assert sink.messages() == ["hidden at error? no: error is enabled", "shown"]
    assert not log.is_enabled_for("info")
    assert log.isEnabledFor("warning") and log.is_enabled_for(50)
    assert logflume.stats()["enqueued"] == 2


def test_set_level_changes_filtering_for_existing_loggers() -> None:
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink], level="info")
    log = logflume.get_logger("x")
    log.debug("before")
    logflume.set_level("debug")
    log.debug("after")
    assert logflume.flush(timeout=5)
    assert sink.messages() == ["after"]


def test_exception_records_type_message_and_traceback(logflume_capture: Capture) -> None:
    log = logflume.get_logger("pay")
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("payment failed", order=42)
    [record] = logflume_capture.assert_logged("payment failed", level="error", order=42)
    assert record.exc is not None
    assert record.exc["type"] == "ZeroDivisionError"
    assert record.exc["message"] == "division by zero"
    assert "Traceback (most recent call last)" in record.exc["traceback"]
    assert "1 / 0" in record.exc["traceback"]
    assert logflume_capture.dicts()[0]["exc"]["type"] == "ZeroDivisionError"


def test_exc_info_keyword_attaches_the_current_exception(logflume_capture: Capture) -> None:
    log = logflume.get_logger("pay")
    try:
        raise KeyError("k")
    except KeyError as exc:
        log.warning("lookup failed", exc_info=True)
        log.error("explicit", exc_info=exc)
    first, second = logflume_capture.records
    assert first.exc is not None and first.exc["type"] == "KeyError"
    assert second.exc is not None and second.exc["message"] == "'k'"
    assert "exc_info" not in first.fields


def test_positional_args_are_applied_percent_style(logflume_capture: Capture) -> None:
    log = logflume.get_logger("fmt")
    log.info("%s bought %d items", "ann", 3)
    log.info("%d broken", "not a number")
    assert logflume_capture.messages() == ["ann bought 3 items", "%d broken ('not a number',)"]


def test_capture_source_records_file_line_and_function() -> None:
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink], capture_source=True)
    log = logflume.get_logger("src")

    def handler() -> int:
        log.info("here")
        return handler.__code__.co_firstlineno + 1

    line = handler()
    try:
        raise ValueError("x")
    except ValueError:
        log.exception("there")
    assert logflume.flush(timeout=5)
    first, second = sink.records
    assert first.src == (__file__, line, "handler")
    assert second.src is not None and second.src[2] == (
        "test_capture_source_records_file_line_and_function"
    )
    assert sink.dicts()[0]["src"] == {"file": __file__, "line": line, "function": "handler"}


def test_get_logger_defaults_to_root_and_repr_is_informative() -> None:
    log = logflume.get_logger()
    assert log.name == "root"
    assert "root" in repr(log.bind(a=1)) and "'a': 1" in repr(log.bind(a=1))


def test_source_locations_are_resolved_once_per_code_location() -> None:
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink], capture_source=True)
    log = logflume.get_logger("src")
    for i in range(10):
        log.info("same line", i=i)
    assert logflume.flush(timeout=5)
    cache = logflume.stats()["src_cache"]
    assert cache == {"hits": 9, "misses": 1, "size": 1}
    assert len({r.src for r in sink.records}) == 1
