"""StreamSink: stdout/stderr, console format on a terminal, JSON lines otherwise."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import IO, Any, Literal

from .._record import Record, parse_level
from ..errors import ConfigurationError
from ..formatting import console_line

Format = Literal["auto", "console", "json"]


class StreamSink:
    """Write records to a text stream.

    ``stream`` is ``"stderr"`` (default), ``"stdout"`` — looked up at each batch,
    so pytest's capture and redirections work — or any object with ``write``.
    ``format="auto"`` picks the coloured console format when the stream is a
    TTY, JSON lines otherwise; ``colours`` overrides colour detection.
    """

    def __init__(
        self,
        stream: str | IO[str] = "stderr",
        *,
        format: Format = "auto",
        colours: bool | None = None,
        level: int | str | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(stream, str) and stream not in ("stderr", "stdout"):
            raise ConfigurationError(
                f"stream must be 'stderr', 'stdout' or a file object, got {stream!r}"
            )
        if format not in ("auto", "console", "json"):
            raise ConfigurationError(f"format must be 'auto', 'console' or 'json', got {format!r}")
        self._stream = stream
        self.format = format
        self.colours = colours
        self.level = parse_level(level) if level is not None else None
        self.name = name or (f"stream:{stream}" if isinstance(stream, str) else "stream")

    def _target(self) -> Any:
        if isinstance(self._stream, str):
            return sys.stderr if self._stream == "stderr" else sys.stdout
        return self._stream

    def _is_tty(self, target: Any) -> bool:
        try:
            return bool(target.isatty())
        except Exception:
            return False

    def write_batch(self, records: Sequence[Record]) -> None:
        target = self._target()
        if target is None:
            raise OSError("no stream to write to (sys.stderr/stdout is None)")
        tty = self._is_tty(target)
        as_json = self.format == "json" or (self.format == "auto" and not tty)
        if as_json:
            target.write(b"".join(r.line for r in records).decode("utf-8", "replace"))
        else:
            colours = tty if self.colours is None else self.colours
            target.write("".join(console_line(r, colours) for r in records))
        target.flush()

    def flush(self, timeout: float | None = None) -> bool:
        target = self._target()
        if target is not None:
            target.flush()
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a closed stream at exit is not worth a crash
            self.flush()
