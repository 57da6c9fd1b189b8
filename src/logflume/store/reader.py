"""StoreReader: iterate complete frames of a store, skipping frames by their headers.

Readers take no lock: they read only frames whose bytes are all on disk, so
they run beside the writer and never see a half-written batch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from .frames import FrameError, FrameInfo, decode_payload
from .index import StoreCorruptError, list_segments, load_frames, scan_frames, segment_number
from .query import Query

Position = tuple[int, int]  # (segment number, byte offset)


@contextmanager
def _opened(path: Path) -> Iterator[int | None]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # deleted by retention while we looked
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


class StoreReader:
    """Reads a store directory; ``frames_decompressed`` counts payloads decoded."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.frames_decompressed = 0

    def segment_frames(self) -> Iterator[tuple[Path, list[FrameInfo], int]]:
        """Each segment with its complete frames and its size on disk."""
        for segment in list_segments(self.directory):
            with _opened(segment) as fd:
                if fd is None:
                    continue
                size = os.fstat(fd).st_size
                frames, _, _ = load_frames(segment, fd, size)
                yield segment, frames, size

    def _decode(self, fd: int, info: FrameInfo, segment: Path) -> list[bytes]:
        buf = os.pread(fd, info.end - info.offset, info.offset)
        try:
            data = decode_payload(buf, info)
        except FrameError as exc:
            raise StoreCorruptError(f"{segment}: {exc}") from exc
        except Exception as exc:  # zstandard.ZstdError and friends
            raise StoreCorruptError(f"{segment}: frame at {info.offset}: {exc}") from exc
        self.frames_decompressed += 1
        return data.splitlines()

    def scan(self, query: Query) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Matching records as ``(object, json_line)``, segment by segment, frame by frame."""
        for segment in list_segments(self.directory):
            with _opened(segment) as fd:
                if fd is None:
                    continue
                frames, _, _ = load_frames(segment, fd, os.fstat(fd).st_size)
                for info in frames:
                    if not query.frame_may_match(info):
                        continue
                    check_time = not query.frame_inside_time(info)
                    for line in self._decode(fd, info, segment):
                        obj = orjson.loads(line)
                        if query.matches(obj, line, check_time):
                            yield obj, line

    def end_position(self) -> Position:
        """Where the complete frames of the store end now."""
        segments = list_segments(self.directory)
        if not segments:
            return (0, 0)
        last = segments[-1]
        with _opened(last) as fd:
            end = 0 if fd is None else load_frames(last, fd, os.fstat(fd).st_size)[1]
        return (segment_number(last) or 0, end)

    def last(
        self, count: int, query: Query, before: Position
    ) -> list[tuple[dict[str, Any], bytes]]:
        """The last ``count`` matching records before ``before``, oldest first."""
        found: list[tuple[dict[str, Any], bytes]] = []
        for segment in reversed(list_segments(self.directory)):
            number = segment_number(segment) or 0
            if number > before[0]:
                continue
            with _opened(segment) as fd:
                if fd is None:
                    continue
                frames, _, _ = load_frames(segment, fd, os.fstat(fd).st_size)
                for info in reversed(frames):
                    if number == before[0] and info.end > before[1]:
                        continue
                    if not query.frame_may_match(info):
                        continue
                    check = not query.frame_inside_time(info)
                    lines = self._decode(fd, info, segment)
                    batch = [
                        (o, ln) for ln in lines if query.matches(o := orjson.loads(ln), ln, check)
                    ]
                    found[:0] = batch
                    if len(found) >= count:
                        return found[len(found) - count :]
        return found

    def follow(
        self, query: Query, start: Position, stop: threading.Event, poll: float = 0.2
    ) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Records of frames completed after ``start``, as they appear, until ``stop`` is set.

        Polls every ``poll`` seconds when nothing new is there; each frame is
        yielded once, and only once it is whole.
        """
        number, offset = start
        while not stop.is_set():
            progressed = False
            for segment in list_segments(self.directory):
                seg_no = segment_number(segment) or 0
                if seg_no < number:
                    continue
                if seg_no > number:
                    number, offset = seg_no, 0
                with _opened(segment) as fd:
                    if fd is None:
                        continue
                    frames, end = scan_frames(fd, offset, os.fstat(fd).st_size, segment)
                    for info in frames:
                        check = not query.frame_inside_time(info)
                        if query.frame_may_match(info):
                            for line in self._decode(fd, info, segment):
                                obj = orjson.loads(line)
                                if query.matches(obj, line, check):
                                    yield obj, line
                    progressed = progressed or end != offset
                    offset = end
            if not progressed:
                stop.wait(poll)
