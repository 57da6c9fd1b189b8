"""``logflume query DIR``: records of a store that match time, level, logger and field filters."""

from __future__ import annotations

import argparse
from typing import Any

from ..store.terminal import (
    Printer,
    add_filter_arguments,
    add_output_arguments,
    build_query,
    guarded,
    open_store,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "query", help="query a compressed log store", description=__doc__
    )
    add_output_arguments(parser)
    add_filter_arguments(parser)
    parser.add_argument("--limit", type=int, help="stop after this many records")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        query = build_query(args)
        store = open_store(args.directory)
        printer = Printer(args.json)
        for n, (obj, line) in enumerate(store.scan(query)):
            if args.limit is not None and n >= args.limit:
                break
            printer(obj, line)
        printer.flush()
        return 0

    return guarded("query", body)
