"""Size rotation through the pipeline: no file passes max_bytes, every record lands once."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import orjson

import logflume
from logflume.sinks.rotating import RotatingFileSink

sys.path.insert(0, str(Path(__file__).parent))
from rotating_files import backup_indices, log_files, read_bytes, read_records


def _sink(path: Path, **kw: object) -> RotatingFileSink:
    options: dict[str, object] = {"compress": None, "max_total_bytes": None, "min_free_bytes": 0}
    options.update(kw)
    return RotatingFileSink(path, **options)  # type: ignore[arg-type]


def test_fifty_messages_into_5kb_files_each_land_once_in_order(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    sink = _sink(path, max_bytes=5 * 1024, backup_count=10)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("size")
    for i in range(50):
        log.info("message with some padding " + "x" * 100, seq=i)
    assert logflume.flush(timeout=10)
    assert sink.stats()["rotations"] >= 1
    assert all(p.stat().st_size <= 5 * 1024 for p in log_files(path))
    assert [r["seq"] for r in read_records(path)] == list(range(50))
    assert backup_indices(path) == list(range(1, len(backup_indices(path)) + 1))


def test_ten_thousand_messages_into_1kb_files_each_land_once_in_order(
    memory_tmp_path: Path,
) -> None:
    path = memory_tmp_path / "app.log"
    rotated: list[bytes] = []
    sizes: list[int] = []

    def keep(old: str, new: str) -> None:  # read each backup before it can be deleted
        data = Path(new).read_bytes()
        sizes.append(len(data))
        rotated.append(data)

    sink = _sink(path, max_bytes=1024, backup_count=3, on_rotate=keep)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("size")
    for i in range(10_000):
        log.info("tick", seq=i)
    assert logflume.flush(timeout=30)
    stats = sink.stats()
    assert stats["rotations"] == len(rotated) > 500
    assert max(sizes) <= 1024 and path.stat().st_size <= 1024
    lines = b"".join(rotated).splitlines() + path.read_bytes().splitlines()
    assert [orjson.loads(line)["seq"] for line in lines] == list(range(10_000))
    assert backup_indices(path) == [1, 2, 3]
    assert stats["records"] == 10_000 and stats["fallback_records"] == 0


def _threads(path: Path, threads_n: int, per_thread: int, max_bytes: int) -> RotatingFileSink:
    sink = _sink(path, max_bytes=max_bytes, backup_count=5000)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("threads")

    def produce(worker: int) -> None:
        bound = log.bind(worker=worker)
        for seq in range(per_thread):
            bound.info("tick", seq=seq)

    workers = [threading.Thread(target=produce, args=(w,)) for w in range(threads_n)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert logflume.flush(timeout=60)
    rows = read_records(path)
    assert len(rows) == threads_n * per_thread
    seen: dict[int, list[int]] = {w: [] for w in range(threads_n)}
    for row in rows:
        seen[row["worker"]].append(row["seq"])
    for worker, seqs in seen.items():
        assert seqs == list(range(per_thread)), f"worker {worker}: lost, duplicated or reordered"
    assert all(len(read_bytes(p)) <= max_bytes for p in log_files(path))
    return sink


def test_five_threads_of_100_records_during_rotation_land_exactly_once(
    memory_tmp_path: Path,
) -> None:
    sink = _threads(memory_tmp_path / "app.log", 5, 100, max_bytes=2048)
    assert sink.stats()["rotations"] >= 10


def test_eight_threads_of_10000_records_during_rotation_land_exactly_once(
    memory_tmp_path: Path,
) -> None:
    sink = _threads(memory_tmp_path / "app.log", 8, 10_000, max_bytes=64 * 1024)
    stats = sink.stats()
    assert stats["rotations"] >= 50 and stats["records"] == 80_000
    assert stats["lost_records"] == stats["fallback_records"] == 0
