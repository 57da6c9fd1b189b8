"""Grafana Loki: ``LokiSink`` (needs the ``loki`` extra: httpx, and cramjam for protobuf)."""

from ._labels import OVERFLOW, sanitize_name
from ._refusal import ORIG_TS
from ._spool import SpoolLockedError
from .sink import LokiSink

__all__ = ["ORIG_TS", "OVERFLOW", "LokiSink", "SpoolLockedError", "sanitize_name"]
