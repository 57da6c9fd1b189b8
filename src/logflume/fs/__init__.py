"""Filesystem layer shared by every file sink."""

from .write import write_all

__all__ = ["write_all"]
