"""``logflume demo``: a simulated service logging through logflume's local sinks.

Several threads play request handlers of a shop (http, checkout, payments,
inventory, auth), each with its own bound logger; they log ``--records``
records in total into ``./logflume-demo/`` through every local sink: a rotating
file with gzip backups (``app/``), files routed by category and level
(``by-category/``) and the compressed segment store (``store/``, read it with
``logflume query``). The demo then reads everything back, checks that every
record reached every sink, and prints a summary.
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import logflume

SERVICES = ("api.http", "checkout", "payments", "inventory", "auth")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="simulate a service logging through logflume", description=__doc__
    )
    parser.add_argument("--records", type=int, default=200_000, help="records in total")
    parser.add_argument("--threads", type=int, default=4, help="logging threads")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("logflume-demo"),
        help="output directory (default ./logflume-demo)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the simulation")
    parser.set_defaults(func=run)


def _handler(worker: int, count: int, seed: int, progress: list[int]) -> None:
    rng = random.Random(seed * 1000 + worker)
    loggers = [logflume.get_logger(name).bind(worker=worker) for name in SERVICES]
    for i in range(count):
        log = loggers[i % len(loggers)]
        roll = rng.random()
        if roll < 0.90:
            log.info(
                "request handled",
                path=f"/api/items/{rng.randrange(500)}",
                status=200,
                duration_ms=round(rng.uniform(0.3, 40.0), 2),
                seq=i,
            )
        elif roll < 0.97:
            log.warning(
                "slow dependency",
                dependency=rng.choice(("db", "cache", "search")),
                duration_ms=round(rng.uniform(200, 900), 1),
                seq=i,
            )
        elif roll < 0.995:
            log.error("request failed", status=rng.choice((500, 502, 503)), seq=i)
        else:
            try:
                raise TimeoutError(f"upstream timed out after {rng.randrange(1, 30)} s")
            except TimeoutError:
                log.exception("payment failed", order=rng.randrange(10**6), seq=i)
        progress[worker] = i + 1


def _count_lines(path: Path) -> int:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return sum(1 for _ in f)


def _sinks(out: Path) -> tuple[list[Any], dict[str, Path]]:
    """Every local sink, each in its own corner of ``out`` (emptied first)."""
    from ..sinks.rotating import RotatingFileSink
    from ..sinks.routed import RoutedFileSink
    from ..store import SegmentStore

    places = {"rotating": out / "app", "routed": out / "by-category", "store": out / "store"}
    for place in places.values():
        shutil.rmtree(place, ignore_errors=True)
        place.mkdir(parents=True)
    try:
        import zstandard  # noqa: F401

        compression = "zstd"
    except ImportError:
        compression = "gzip"
    sinks = [
        RotatingFileSink(places["rotating"] / "app.jsonl", max_bytes=4 * 1024 * 1024,
                         backup_count=1000, max_total_bytes=None, compress="gzip",
                         name="rotating"),
        RoutedFileSink(root=places["routed"], name="routed"),
        SegmentStore(places["store"], compression=compression, name="store"),
    ]  # fmt: skip
    return sinks, places


def _verify(places: dict[str, Path], records: int) -> list[tuple[str, int, int, int]]:
    """(sink, files, bytes, records found) for each sink, read back from disk."""
    from ..store import SegmentStore

    rows = []
    app = sorted(places["rotating"].glob("app.jsonl*"))
    rows.append(("rotating", len(app), sum(p.stat().st_size for p in app),
                 sum(_count_lines(p) for p in app)))  # fmt: skip
    routed = sorted(places["routed"].rglob("*.jsonl"))
    by_category = [p for p in routed if p.name not in ("error.jsonl", "warning.jsonl")]
    rows.append(("routed", len(routed), sum(p.stat().st_size for p in routed),
                 sum(_count_lines(p) for p in by_category)))  # fmt: skip
    store = SegmentStore(places["store"], readonly=True)
    summary = store.summary()
    store.close()
    files = [p for p in places["store"].iterdir() if p.is_file()]
    rows.append(("store", len(files), sum(p.stat().st_size for p in files),
                 int(summary["records"])))  # fmt: skip
    return rows


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    console = Console()
    if args.records < 1 or args.threads < 1:
        console.print("[red]logflume demo: --records and --threads must be >= 1[/red]")
        return 2
    out: Path = args.out
    sinks, places = _sinks(out)
    logflume.configure(sinks=sinks, level="INFO")

    per_thread = [
        args.records // args.threads + (1 if w < args.records % args.threads else 0)
        for w in range(args.threads)
    ]
    progress = [0] * args.threads
    threads = [
        threading.Thread(target=_handler, args=(w, n, args.seed, progress))
        for w, n in enumerate(per_thread)
    ]
    start = time.perf_counter()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("logging", total=args.records)
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            bar.update(task, completed=sum(progress))
            threads[0].join(0.05)  # UI refresh cadence, not a wait for work
        for t in threads:
            t.join()
        bar.update(task, completed=sum(progress))
        flushed = logflume.flush(timeout=120)
    elapsed = time.perf_counter() - start
    stats = logflume.stats()
    logflume.shutdown(timeout=120)  # also waits for background compression

    rows = _verify(places, args.records)
    table = Table(title=f"logflume demo — {out}")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("records logged", f"{args.records:,}")
    table.add_row("threads", str(args.threads))
    table.add_row("elapsed (log + flush)", f"{elapsed:.2f} s")
    table.add_row("throughput", f"{args.records / elapsed:,.0f} records/s")
    table.add_row("dropped", str(stats["dropped"]))
    table.add_row("failed", str(stats["failed"]))
    for sink, files, size, found in rows:
        table.add_row(f"{sink} ({places[sink]})",
                      f"{found:,} records in {files} files, {size / 1e6:.1f} MB")  # fmt: skip
    console.print(table)
    ok = (
        flushed
        and stats["dropped"] == 0
        and stats["failed"] == 0
        and all(found == args.records for _, _, _, found in rows)
    )
    console.print(
        "[green]every record accounted for in every sink[/green]"
        if ok
        else "[red]records missing: see the table above[/red]"
    )
    return 0 if ok else 1
