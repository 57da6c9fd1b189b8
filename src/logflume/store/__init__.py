"""Compressed segment store: writer, reader, index, recovery."""

from .index import StoreCorruptError
from .lock import StoreLockedError
from .query import Query
from .segment_store import SegmentStore

__all__ = ["Query", "SegmentStore", "StoreCorruptError", "StoreLockedError"]
