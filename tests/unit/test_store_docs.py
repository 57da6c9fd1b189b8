"""The Python examples of docs/sinks/store.md and loki.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import logflume

DOC = Path(__file__).resolve().parents[2] / "docs" / "sinks" / "store.md"


def test_store_page_example_runs_and_finds_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [example] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, str(DOC), "exec"), {"__name__": "doc"})
    logflume.shutdown()
    assert capsys.readouterr().out.rstrip().endswith("payment timeout")
    assert list((tmp_path / "logs" / "store").glob("seg-*.jsonl.zst"))


LOKI_DOC = DOC.with_name("loki.md")


def test_loki_page_receiver_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", LOKI_DOC.read_text(), flags=re.DOTALL)
    [example] = [block for block in blocks if "LokiReceiver()" in block]
    monkeypatch.chdir(tmp_path)
    exec(compile("import logflume\n" + example, str(LOKI_DOC), "exec"), {"__name__": "doc"})
    logflume.shutdown()
