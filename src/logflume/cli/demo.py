"""``logflume demo``: a simulated service logging through logflume's local sinks.

Several threads play request handlers of a shop (http, checkout, payments,
inventory, auth), each with its own bound logger; they log ``--records``
records in total into ``./logflume-demo/``. The demo then checks that every
record reached every file it should and prints a summary.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from pathlib import Path
from typing import Any

import orjson

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
    with path.open("rb") as f:
        return sum(1 for _ in f)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    console = Console()
    if args.records < 1 or args.threads < 1:
        console.print("[red]logflume demo: --records and --threads must be >= 1[/red]")
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    files = {"app.jsonl": None, "errors.jsonl": "error"}
    for name in files:
        (out / name).unlink(missing_ok=True)
    sinks = [logflume.FileSink(out / name, level=level, name=name) for name, level in files.items()]
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
        transient=False,
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
        flushed = logflume.flush(timeout=60)
    elapsed = time.perf_counter() - start
    stats = logflume.stats()
    logflume.shutdown()

    lines = {name: _count_lines(out / name) for name in files}
    errors_expected = 0
    with (out / "app.jsonl").open("rb") as f:
        for raw in f:
            if orjson.loads(raw)["level"] in ("error", "critical"):
                errors_expected += 1
    table = Table(title="logflume demo")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("records logged", f"{args.records:,}")
    table.add_row("threads", str(args.threads))
    table.add_row("elapsed", f"{elapsed:.2f} s")
    table.add_row("throughput", f"{args.records / elapsed:,.0f} records/s")
    table.add_row("dropped", str(stats["dropped"]))
    table.add_row("failed", str(stats["failed"]))
    for name in files:
        size = (out / name).stat().st_size
        table.add_row(f"{out / name}", f"{lines[name]:,} lines, {size / 1e6:.1f} MB")
    console.print(table)
    ok = (
        flushed
        and stats["dropped"] == 0
        and stats["failed"] == 0
        and lines["app.jsonl"] == args.records
        and lines["errors.jsonl"] == errors_expected
    )
    console.print(
        "[green]every record accounted for[/green]"
        if ok
        else "[red]records missing: see the table above[/red]"
    )
    return 0 if ok else 1
