"""``logflume stats DIR``: records, segments, compressed and raw bytes, ratio, time span."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from ..formatting import format_ts
from ..store.terminal import guarded, open_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stats", help="summarize a compressed log store", description=__doc__
    )
    parser.add_argument("directory", help="the store directory")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        from pathlib import Path

        summary = open_store(Path(args.directory)).summary()
        first, last = summary["first_ts_ns"], summary["last_ts_ns"]
        summary["first_ts"] = format_ts(first) if first is not None else None
        summary["last_ts"] = format_ts(last) if last is not None else None
        summary["span_seconds"] = (last - first) / 1e9 if first is not None else None
        if args.json:
            sys.stdout.write(orjson.dumps(summary).decode() + "\n")
            return 0
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"store {args.directory}")
        table.add_column("what")
        table.add_column("value", justify="right")
        table.add_row("records", f"{summary['records']:,}")
        table.add_row("segments", str(summary["segments"]))
        table.add_row("frames", f"{summary['frames']:,}")
        table.add_row("compressed bytes", f"{summary['compressed_bytes']:,}")
        table.add_row("raw bytes", f"{summary['raw_bytes']:,}")
        table.add_row("ratio", str(summary["ratio"]))
        table.add_row("first", str(summary["first_ts"]))
        table.add_row("last", str(summary["last_ts"]))
        table.add_row("span", f"{summary['span_seconds'] or 0:.3f} s")
        Console(highlight=False).print(table)
        return 0

    return guarded("stats", body)
