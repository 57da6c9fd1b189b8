"""The README's Python examples run as written."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import orjson
import pytest

import logflume

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_quick_start_writes_the_documented_json_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    quick_start = _python_blocks()[0]
    exec(compile(quick_start, str(README), "exec"), {"__name__": "readme"})
    rows = [orjson.loads(x) for x in (tmp_path / "logs" / "app.jsonl").read_bytes().splitlines()]
    assert [r["msg"] for r in rows] == ["user login", "payment failed"]
    assert rows[0]["service"] == "shop" and rows[0]["user_id"] == 7
    assert rows[1]["exc"]["type"] == "ZeroDivisionError"
    documented = re.search(r"```json\n(.*?)\n```", README.read_text(), flags=re.DOTALL)
    assert documented is not None
    assert set(orjson.loads(documented.group(1))) == set(rows[0])


def test_readme_stdlib_example_reaches_the_pipeline() -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    sink = logflume.MemorySink()
    logflume.configure(sinks=[sink])
    try:
        exec(compile(_python_blocks()[1], str(README), "exec"), {"__name__": "readme"})
        assert logflume.flush(timeout=5)
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    [record] = sink.records
    assert record.msg == "disk at 91%" and record.fields == {"mount": "/var"}


def test_readme_loki_example_delivers_to_a_loki(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logflume.testing.loki_receiver import LokiReceiver

    [block] = [b for b in _python_blocks() if "LokiSink" in b]
    monkeypatch.chdir(tmp_path)
    with LokiReceiver() as loki:
        code = block.replace("http://loki:3100", loki.url).replace(
            "/var/spool/shop-loki", str(tmp_path / "spool")
        )
        exec(compile(code, str(README), "exec"), {"__name__": "readme", "logflume": logflume})
        logflume.get_logger("t").error("boom")
        assert logflume.flush(timeout=10)
        [(labels, entries)] = loki.streams().items()
    assert dict(labels) == {"service": "shop", "level": "error"}
    assert len(entries) == 1
    assert (tmp_path / "logs" / "app.jsonl").read_bytes().count(b"\n") == 1
