"""RoutedFileSink end to end: many categories through few handles, hostile names, level copies."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path

import orjson

import logflume
from logflume import RoutedFileSink
from logflume.routing import sanitize_component


def read_all(root: Path) -> dict[Path, list[dict[str, object]]]:
    return {
        path: [orjson.loads(line) for line in path.read_bytes().splitlines()]
        for path in root.rglob("*.jsonl")
    }


def test_100_categories_through_8_handles_every_record_in_its_file_in_order(
    memory_tmp_path: Path,
) -> None:
    sink = RoutedFileSink(
        memory_tmp_path,
        "{category}.jsonl",
        None,
        max_open=8,
        flush_interval=0.01,
        max_buffer_bytes=64 * 1024,
    )
    logflume.configure(sinks=[sink], batch_max_records=64)
    producers, per_producer, categories = 4, 1500, 100

    def produce(producer: int) -> None:
        for seq in range(per_producer):
            category = (seq * 7 + producer) % categories
            logflume.get_logger(f"cat{category:03d}").info(
                "r", producer=producer, seq=seq, category=category
            )

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert logflume.flush(timeout=30)
    stats = logflume.stats()
    routed = stats["sinks"][sink.name]
    assert stats["dropped"] == 0 and stats["failed"] == 0 and routed["lost_records"] == 0
    assert routed["pool"]["peak_open"] <= 8
    assert routed["pool"]["evictions"] > 0
    files = read_all(memory_tmp_path)
    assert len(files) == categories
    expected: dict[int, int] = defaultdict(int)
    for producer in range(producers):
        for seq in range(per_producer):
            expected[(seq * 7 + producer) % categories] += 1
    for path, records in files.items():
        category = int(path.stem.removeprefix("cat"))
        assert len(records) == expected[category], path
        assert all(r["category"] == category for r in records)
        for producer in range(producers):
            seqs = [r["seq"] for r in records if r["producer"] == producer]
            assert seqs == sorted(seqs), f"{path}: producer {producer} out of order"
    assert sum(len(r) for r in files.values()) == producers * per_producer


def test_error_and_warning_records_are_also_copied_to_the_level_files(
    memory_tmp_path: Path,
) -> None:
    sink = RoutedFileSink(memory_tmp_path)
    logflume.configure(sinks=[sink], level="debug")
    for name in ("api", "db"):
        log = logflume.get_logger(name)
        log.debug("d")
        log.info("i")
        log.warning("w")
        log.error("e")
        log.critical("c")
    assert logflume.flush(timeout=10)
    day = next(memory_tmp_path.iterdir())
    files = read_all(day)
    assert [r["msg"] for r in files[day / "api.jsonl"]] == ["d", "i", "w", "e", "c"]
    assert [(r["logger"], r["msg"]) for r in files[day / "error.jsonl"]] == [
        ("api", "e"),
        ("api", "c"),
        ("db", "e"),
        ("db", "c"),
    ]
    assert [(r["logger"], r["msg"]) for r in files[day / "warning.jsonl"]] == [
        ("api", "w"),
        ("db", "w"),
    ]


def _tree(top: Path) -> set[str]:
    found = set()
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            found.add(os.path.join(dirpath, name))
    return found


HOSTILE = [
    "../../etc/passwd",
    "../escape",
    "..",
    ".",
    "",
    "/",
    "/tmp/routed-absolute-escape",
    "a/../../b",
    "nul\x00byte",
    "ctl\x01\x1b[2J\r\n",
    "x" * 10_240,
    "..\\..\\win",
    "%2e%2e%2fenc",
    "~root",
    "-rf",
    "ünïcødé",
    "\ud800surrogate",
]


def test_hostile_categories_never_create_anything_outside_root(memory_tmp_path: Path) -> None:
    outside = memory_tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    root = memory_tmp_path / "deep" / "root"
    parent_before = _tree(memory_tmp_path)
    neighbours = {top: _tree(top) for top in (Path("/tmp"), Path("/etc"))}
    sink = RoutedFileSink(root, "{date}/{service}/{category}.jsonl", category_from="tenant")
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("hostile")
    for i, name in enumerate(HOSTILE):
        log.error("probe", tenant=name, service=name, seq=i)
    assert logflume.flush(timeout=10)
    routed = logflume.stats()["sinks"][sink.name]
    assert routed["lost_records"] == 0 and routed["errors_by_errno"] == {}
    created = _tree(memory_tmp_path) - parent_before - {str(root), str(root.parent)}
    assert created, "nothing was written"
    assert all(path.startswith(str(root) + os.sep) for path in created), created
    for top, before in neighbours.items():
        assert not {p for p in _tree(top) - before if "escape" in p or "passwd" in p}, top
    assert not Path("/tmp/routed-absolute-escape.jsonl").exists()
    records = [
        r
        for path, rs in read_all(root).items()
        for r in rs
        if path.name not in ("error.jsonl", "warning.jsonl")
    ]
    assert sorted(r["seq"] for r in records) == list(range(len(HOSTILE)))
    for path in root.rglob("*"):
        assert len(path.name.encode()) <= 106  # 100 + ".jsonl"
        assert path.name == sanitize_component(path.name.removesuffix(".jsonl")) + (
            ".jsonl" if path.name.endswith(".jsonl") else ""
        )
