"""stdlib logging records flow through the same pipeline with their fields."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import logflume
from logflume.stdlib import LogflumeHandler, capture_stdlib
from logflume.testing import Capture


@pytest.fixture
def stdlib_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        yield root
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])


def test_stdlib_records_arrive_with_args_extra_and_level(
    logflume_capture: Capture, stdlib_root: logging.Logger
) -> None:
    handler = capture_stdlib(level="DEBUG")
    assert capture_stdlib() is handler  # idempotent
    logging.getLogger("legacy.db").warning(
        "slow query %s took %.1f s", "q1", 2.5, extra={"rows": 10, "table": "orders"}
    )
    logging.getLogger("legacy").debug("dbg")
    [warn] = logflume_capture.assert_logged(
        "slow query q1 took 2.5 s", level="warning", logger="legacy.db"
    )
    assert warn.fields == {"rows": 10, "table": "orders"}
    logflume_capture.assert_logged("dbg", level="debug", logger="legacy")


def test_stdlib_exceptions_keep_their_traceback(
    logflume_capture: Capture, stdlib_root: logging.Logger
) -> None:
    capture_stdlib(level=logging.INFO)
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("legacy").exception("lookup failed")
    [record] = logflume_capture.assert_logged("lookup failed", level="error")
    assert record.exc is not None and record.exc["type"] == "KeyError"
    assert "missing" in record.exc["traceback"]


def test_stdlib_levels_map_to_the_nearest_logflume_level(
    logflume_capture: Capture, stdlib_root: logging.Logger
) -> None:
    capture_stdlib(level=1)
    logging.getLogger("lv").log(25, "between info and warning")
    logging.getLogger("lv").critical("crit")
    levels = [r.level_name for r in logflume_capture.records]
    assert levels == ["info", "critical"]


def test_the_pipeline_level_also_filters_stdlib_records(stdlib_root: logging.Logger) -> None:
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink], level="warning")
    stdlib_root.addHandler(LogflumeHandler())
    stdlib_root.setLevel(logging.DEBUG)
    logging.getLogger("f").info("dropped by level")
    logging.getLogger("f").error("kept")
    assert logflume.flush(timeout=5)
    assert sink.messages() == ["kept"]


def test_unknown_stdlib_level_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown stdlib level"):
        capture_stdlib(level="LOUD")
