"""``logflume cat DIR``: every record of a compressed log store, oldest first."""

from __future__ import annotations

import argparse
from typing import Any

from ..store import Query
from ..store.terminal import Printer, add_output_arguments, guarded, open_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cat", help="print a whole log store", description=__doc__)
    add_output_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        store = open_store(args.directory)
        printer = Printer(args.json)
        for obj, line in store.scan(Query()):
            printer(obj, line)
        printer.flush()
        return 0

    return guarded("cat", body)
