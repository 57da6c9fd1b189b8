"""Helpers for the rotating-sink tests: read back every record of a rotated log."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import orjson


def log_files(path: Path) -> list[Path]:
    """The active file and its backups, oldest first (``app.log.N`` ... ``app.log``)."""
    pattern = re.compile(rf"^{re.escape(path.name)}(?:\.(\d+))?(\.gz|\.zst)?$")
    found: list[tuple[int, Path]] = []
    for entry in path.parent.iterdir():
        match = pattern.match(entry.name)
        if match:
            found.append((int(match.group(1) or 0), entry))
    return [p for _, p in sorted(found, key=lambda t: -t[0])]


def read_bytes(path: Path) -> bytes:
    if path.name.endswith(".gz"):
        return gzip.decompress(path.read_bytes())
    if path.name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
    return path.read_bytes()


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every JSON line of the active file and all backups, oldest first (each must parse)."""
    rows: list[dict[str, Any]] = []
    for file in log_files(path):
        data = read_bytes(file)
        assert not data or data.endswith(b"\n"), f"{file.name} ends with a torn line"
        rows.extend(orjson.loads(line) for line in data.splitlines())
    return rows


def backup_indices(path: Path) -> list[int]:
    return sorted(
        int(m.group(1))
        for p in path.parent.iterdir()
        if (m := re.match(rf"^{re.escape(path.name)}\.(\d+)(\.gz|\.zst)?$", p.name))
    )
