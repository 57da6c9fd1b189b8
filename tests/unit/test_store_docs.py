"""The Python example of docs/sinks/store.md runs as written."""

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
