"""``logflume tail [-f] DIR``: the last records of a store; with ``-f``, follow new frames."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from ..store.terminal import (
    BadInput,
    Printer,
    add_filter_arguments,
    add_output_arguments,
    build_query,
    guarded,
    open_store,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tail", help="show the last records of a log store", description=__doc__
    )
    add_output_arguments(parser)
    add_filter_arguments(parser)
    parser.add_argument("-n", "--lines", type=int, default=10, help="records to show first")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new records")
    parser.add_argument(
        "--poll", type=float, default=0.2, help="seconds between checks when following"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    def body() -> int:
        if args.lines < 0:
            raise BadInput("-n must be >= 0")
        query = build_query(args)
        store = open_store(args.directory)
        printer = Printer(args.json)
        start = store.end_position()
        if args.lines:
            for obj, line in store.last(args.lines, query, start):
                printer(obj, line)
        printer.flush()
        if args.follow:
            for obj, line in store.follow(stop or threading.Event(), query, start, args.poll):
                printer(obj, line)
                printer.flush()
        return 0

    return guarded("tail", body)
