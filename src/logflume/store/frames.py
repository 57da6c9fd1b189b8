"""The frame format: one compressed batch plus a header the standard tools skip.

A segment file is a plain concatenation of frames, so ``zcat`` / ``zstdcat``
print its JSON lines. Each frame carries a fixed :data:`HEADER` (record count,
earliest/latest timestamp in ns, min/max level, raw and payload sizes, a CRC32
of the compressed payload and a CRC32 of the header itself):

- gzip: one gzip member whose FEXTRA field holds the header in subfield ``LF``;
  the payload is the deflate stream plus the gzip trailer.
- zstd: a skippable frame (magic ``0x184D2A50``) holding the header, followed by
  an ordinary zstd frame (the payload).

A reader can therefore find, check and skip a frame by reading ~60 bytes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

from ..errors import MissingDependencyError

GZIP = "gzip"
ZSTD = "zstd"
EXTENSIONS = {GZIP: ".jsonl.gz", ZSTD: ".jsonl.zst"}

# version, count, ts_min, ts_max, level_min, level_max, raw_len, payload_len, payload_crc
_BODY = struct.Struct("<BIqqHHIII")
HEADER_VERSION = 1
HEADER_SIZE = _BODY.size + 4  # + CRC32 of the body

_GZIP_PREFIX = struct.Struct("<BBBBIBBH")  # id1 id2 cm flg mtime xfl os xlen
_GZIP_SUBFIELD = struct.Struct("<2sH")
_GZIP_LEAD = _GZIP_PREFIX.size + _GZIP_SUBFIELD.size  # bytes before our header
_GZIP_FEXTRA = 0x04
_ZSTD_SKIPPABLE = 0x184D2A50
_ZSTD_PREFIX = struct.Struct("<II")  # magic, frame size
GZIP_FRAME_OVERHEAD = _GZIP_LEAD + HEADER_SIZE
ZSTD_FRAME_OVERHEAD = _ZSTD_PREFIX.size + HEADER_SIZE
MAX_PREFIX = max(GZIP_FRAME_OVERHEAD, ZSTD_FRAME_OVERHEAD)


class FrameError(ValueError):
    """Bytes that are not a valid frame header or payload (corruption, not truncation)."""


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """Where a frame is and what its header says (no payload)."""

    offset: int
    header_len: int
    count: int
    ts_min: int
    ts_max: int
    level_min: int
    level_max: int
    raw_len: int
    payload_len: int
    payload_crc: int

    @property
    def end(self) -> int:
        """Offset of the byte after the frame."""
        return self.offset + self.header_len + self.payload_len


def zstd_module() -> Any:
    """Import ``zstandard`` lazily; raise ``MissingDependencyError`` naming the extra."""
    try:
        import zstandard
    except ImportError as exc:
        raise MissingDependencyError(
            "compression='zstd' needs the zstandard package: pip install 'logflume[zstd]' "
            "(or use compression='gzip')"
        ) from exc
    return zstandard


def _pack_header(
    count: int, ts_min: int, ts_max: int, lv_min: int, lv_max: int, raw: int, payload: bytes
) -> bytes:
    body = _BODY.pack(
        HEADER_VERSION,
        count,
        ts_min,
        ts_max,
        min(lv_min, 0xFFFF),
        min(lv_max, 0xFFFF),
        raw,
        len(payload),
        zlib.crc32(payload),
    )
    return body + struct.pack("<I", zlib.crc32(body))


class FrameEncoder:
    """Compress one batch of JSON lines into a frame (one instance per writer)."""

    def __init__(self, compression: str, level: int | None) -> None:
        if compression not in EXTENSIONS:
            raise ValueError(f"compression must be 'zstd' or 'gzip', not {compression!r}")
        self.compression = compression
        self.level = level
        self._zstd: Any = None
        if compression == ZSTD:
            zstd = zstd_module()
            self._zstd = zstd.ZstdCompressor(level=3 if level is None else level)

    def encode(
        self, data: bytes, count: int, ts_min: int, ts_max: int, lv_min: int, lv_max: int
    ) -> bytes:
        """The whole frame for ``data`` (``count`` JSON lines) with its header."""
        if self._zstd is not None:
            payload: bytes = self._zstd.compress(data)
            header = _pack_header(count, ts_min, ts_max, lv_min, lv_max, len(data), payload)
            return _ZSTD_PREFIX.pack(_ZSTD_SKIPPABLE, len(header)) + header + payload
        level = 6 if self.level is None else self.level
        deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        payload = (
            deflate.compress(data)
            + deflate.flush()
            + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
        )
        header = _pack_header(count, ts_min, ts_max, lv_min, lv_max, len(data), payload)
        extra = _GZIP_SUBFIELD.pack(b"LF", len(header)) + header
        prefix = _GZIP_PREFIX.pack(0x1F, 0x8B, 8, _GZIP_FEXTRA, 0, 0, 255, len(extra))
        return prefix + extra + payload


def parse_header(buf: bytes, offset: int) -> FrameInfo | None:
    """Parse the frame header at the start of ``buf`` (read at file ``offset``).

    Returns None when ``buf`` is too short to hold the header (a torn or
    still-growing tail); raises ``FrameError`` when the bytes are not a frame.
    """
    if len(buf) < _ZSTD_PREFIX.size:
        return None
    if buf[:2] == b"\x1f\x8b":
        if len(buf) < GZIP_FRAME_OVERHEAD:
            return None
        _, _, cm, flg, _, _, _, xlen = _GZIP_PREFIX.unpack_from(buf)
        si, sublen = _GZIP_SUBFIELD.unpack_from(buf, _GZIP_PREFIX.size)
        if cm != 8 or flg != _GZIP_FEXTRA or si != b"LF" or sublen != HEADER_SIZE:
            raise FrameError(f"gzip member at offset {offset} has no logflume header")
        if xlen != _GZIP_SUBFIELD.size + HEADER_SIZE:
            raise FrameError(f"bad FEXTRA length at offset {offset}")
        lead = _GZIP_LEAD
    elif _ZSTD_PREFIX.unpack_from(buf)[0] == _ZSTD_SKIPPABLE:
        if len(buf) < ZSTD_FRAME_OVERHEAD:
            return None
        if _ZSTD_PREFIX.unpack_from(buf)[1] != HEADER_SIZE:
            raise FrameError(f"zstd skippable frame at offset {offset} is not a logflume header")
        lead = _ZSTD_PREFIX.size
    else:
        raise FrameError(f"no frame starts at offset {offset} (bytes {buf[:4].hex()})")
    body = buf[lead : lead + _BODY.size]
    (crc,) = struct.unpack_from("<I", buf, lead + _BODY.size)
    if zlib.crc32(body) != crc:
        raise FrameError(f"frame header checksum mismatch at offset {offset}")
    version, count, ts_min, ts_max, lv_min, lv_max, raw, plen, pcrc = _BODY.unpack(body)
    if version != HEADER_VERSION:
        raise FrameError(f"unknown frame version {version} at offset {offset}")
    return FrameInfo(
        offset, lead + HEADER_SIZE, count, ts_min, ts_max, lv_min, lv_max, raw, plen, pcrc
    )


def decode_payload(buf: bytes, info: FrameInfo) -> bytes:
    """Check ``buf`` (the whole frame) against its header and return the JSON lines."""
    payload = buf[info.header_len : info.header_len + info.payload_len]
    if len(payload) != info.payload_len or zlib.crc32(payload) != info.payload_crc:
        raise FrameError(f"frame payload checksum mismatch at offset {info.offset}")
    if buf[:2] == b"\x1f\x8b":
        data = zlib.decompress(payload[:-8], -zlib.MAX_WBITS)
    else:
        data = zstd_module().ZstdDecompressor().decompress(payload, max_output_size=info.raw_len)
    if len(data) != info.raw_len:
        raise FrameError(f"frame at offset {info.offset} decompressed to the wrong size")
    return bytes(data)
