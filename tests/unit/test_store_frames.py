"""The frame format: headers round-trip, tails and corruption are told apart."""

from __future__ import annotations

import sys
import zlib

import pytest

from logflume.errors import MissingDependencyError
from logflume.store.frames import FrameEncoder, FrameError, decode_payload, parse_header

DATA = b'{"msg":"a"}\n{"msg":"b"}\n{"msg":"c"}\n'


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_frame_header_carries_count_ranges_and_payload_round_trips(compression: str) -> None:
    frame = FrameEncoder(compression, None).encode(DATA, 3, 100, 900, 10, 40)
    info = parse_header(frame, 0)
    assert info is not None
    assert (info.count, info.ts_min, info.ts_max, info.level_min, info.level_max) == (
        3,
        100,
        900,
        10,
        40,
    )
    assert info.end == len(frame)
    assert decode_payload(frame, info) == DATA


def test_gzip_frame_is_a_plain_gzip_member() -> None:
    frame = FrameEncoder("gzip", 1).encode(DATA, 3, 1, 2, 20, 20)
    assert zlib.decompress(frame, 16 + zlib.MAX_WBITS) == DATA


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_short_buffer_is_incomplete_not_corrupt(compression: str) -> None:
    frame = FrameEncoder(compression, None).encode(DATA, 3, 1, 2, 20, 20)
    assert parse_header(frame[:20], 0) is None


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_flipped_payload_byte_fails_the_checksum(compression: str) -> None:
    frame = bytearray(FrameEncoder(compression, None).encode(DATA, 3, 1, 2, 20, 20))
    info = parse_header(bytes(frame), 0)
    assert info is not None
    frame[-3] ^= 0xFF
    with pytest.raises(FrameError, match="checksum"):
        decode_payload(bytes(frame), info)


def test_flipped_header_byte_and_junk_are_rejected() -> None:
    frame = bytearray(FrameEncoder("gzip", None).encode(DATA, 3, 1, 2, 20, 20))
    frame[20] ^= 0xFF
    with pytest.raises(FrameError, match="header checksum"):
        parse_header(bytes(frame), 0)
    with pytest.raises(FrameError, match="no frame starts"):
        parse_header(b"not a frame at all", 7)


def test_zstd_without_zstandard_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'logflume\[zstd\]'"):
        FrameEncoder("zstd", None)
    assert FrameEncoder("gzip", None).encode(DATA, 3, 1, 2, 20, 20)[:2] == b"\x1f\x8b"
