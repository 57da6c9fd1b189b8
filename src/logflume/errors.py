"""Exceptions logflume raises at configuration time (never from a log call)."""

from __future__ import annotations


class LogflumeError(Exception):
    """Base class of every error logflume raises."""


class ConfigurationError(LogflumeError, ValueError):
    """An option has a value logflume cannot use; the message says what to change."""


class SinkOpenError(LogflumeError, OSError):
    """A sink could not open its destination when it was created."""


class MissingDependencyError(LogflumeError, ImportError):
    """An optional part needs an extra that is not installed (the message names it)."""
