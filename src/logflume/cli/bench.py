"""``logflume bench``: logflume against its peers, each in a fresh process, in one run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from ..bench.runner import available_scenarios, run_scenario


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure logflume against stdlib, loguru and structlog in one run",
        description="Each library runs in a fresh subprocess writing the same JSON record to "
        "a file; results are compared as ratios.",
    )
    parser.add_argument("--records", type=int, default=100_000, help="records per library")
    parser.add_argument(
        "--scenario",
        default="basic",
        choices=available_scenarios(),
        help="what to measure (default: basic)",
    )
    parser.add_argument(
        "--only",
        action="append",
        help="run only these libraries/peers of the scenario (repeatable)",
    )
    parser.add_argument(
        "--files", type=int, default=None, help="routed scenario: number of files (default 48)"
    )
    parser.add_argument(
        "--processes", type=int, default=None, help="multi-process scenarios: processes"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the files are written (default: a temporary directory)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.records < 1:
        sys.stderr.write("logflume bench: --records must be >= 1\n")
        return 2
    try:
        report = run_scenario(
            args.scenario,
            args.records,
            args.workdir,
            args.only,
            files=args.files,
            processes=args.processes,
        )
    except ValueError as exc:
        sys.stderr.write(f"logflume bench: {exc}\n")
        return 2
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_table(report)
    failed = [
        name
        for name, m in report.get("results", {}).items()
        if isinstance(m, dict) and "error" in m
    ]
    return 1 if failed else 0


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 else f"{value:.2f}"
    return str(value)


_HEADERS = {
    "throughput_rps": "records/s",
    "caller_p50_us": "p50 µs",
    "caller_p99_us": "p99 µs",
    "caller_p999_us": "p99.9 µs",
    "peak_rss_mb": "peak RSS MB",
    "disabled_ns": "disabled ns",
    "lines_written": "lines",
    "dropped": "dropped",
}


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    results: dict[str, dict[str, Any]] = report.get("results", {})
    columns = [c for c in _HEADERS if any(c in m for m in results.values())]
    for metrics in results.values():
        columns += [
            k
            for k, v in metrics.items()
            if k not in columns
            and k not in ("elapsed_s", "flushed", "error")
            and isinstance(v, (int, float))
        ]
    table = Table(
        title=f"logflume bench — scenario {report.get('scenario')}, "
        f"{report.get('records'):,} records per library"
    )
    table.add_column("library")
    for column in columns:
        table.add_column(_HEADERS.get(column, column), justify="right")
    for name, metrics in results.items():
        if "error" in metrics:
            table.add_row(name, f"[red]{metrics['error']}[/red]")
            continue
        table.add_row(name, *(_fmt(metrics.get(c, "")) for c in columns))
    console.print(table)
    for section in ("ratios", "targets"):
        values = report.get(section) or {}
        if values:
            console.print(f"[bold]{section}[/bold]")
            for key, value in values.items():
                colour = (
                    {True: "green", False: "red"}.get(value) if isinstance(value, bool) else None
                )
                shown = f"[{colour}]{value}[/{colour}]" if colour else _fmt(value)
                console.print(f"  {key}: {shown}")
