"""``logflume bench``: logflume against its peers, each in a fresh process, in one run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from ..bench.runner import available_scenarios, run_scenario
from ..bench.workers import WORKERS


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
        choices=sorted(WORKERS),
        help="basic scenario: run only these libraries (repeatable)",
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
    report = run_scenario(args.scenario, args.records, args.workdir, args.only)
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


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    results: dict[str, dict[str, Any]] = report.get("results", {})
    columns: list[str] = []
    for metrics in results.values():
        for key in metrics:
            if key not in columns:
                columns.append(key)
    table = Table(
        title=f"logflume bench — scenario {report.get('scenario')}, "
        f"{report.get('records'):,} records"
    )
    table.add_column("library")
    for column in columns:
        table.add_column(column, justify="right")
    for name, metrics in results.items():
        table.add_row(name, *(_fmt(metrics.get(c, "")) for c in columns))
    console.print(table)
    for section in ("ratios", "targets"):
        values = report.get(section) or {}
        if values:
            console.print(
                f"[bold]{section}[/bold]: " + ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())
            )
