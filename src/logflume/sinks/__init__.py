"""Destinations for records, all on the ``Sink`` protocol (see ``base``)."""

from .base import Sink, sink_name
from .file import FileSink
from .memory import MemorySink
from .stream import StreamSink

__all__ = ["FileSink", "MemorySink", "Sink", "StreamSink", "sink_name"]
