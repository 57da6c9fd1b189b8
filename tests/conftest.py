"""Shared test setup: every test starts and ends without a process-wide pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import logflume


@pytest.fixture(autouse=True)
def _no_global_pipeline() -> Iterator[None]:
    logflume.shutdown(timeout=10)
    yield
    logflume.shutdown(timeout=10)
