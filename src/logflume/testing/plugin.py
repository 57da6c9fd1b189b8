"""pytest plugin: fixtures ``logflume_capture``, ``memory_tmp_path`` and ``wait_until``."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .. import config
from .capture import Capture
from .wait import wait_until as _wait_until

_SHM = Path("/dev/shm")


@pytest.fixture
def memory_tmp_path(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh directory on tmpfs (``/dev/shm``) when available, else under the system temp.

    Removed after the test. Use it wherever the real disk is not what is tested.
    """
    base = _SHM if _SHM.is_dir() and os.access(_SHM, os.W_OK) else None
    safe = "".join(c if c.isalnum() else "_" for c in request.node.name)[:40]
    path = Path(tempfile.mkdtemp(prefix=f"logflume-{safe}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def logflume_capture() -> Iterator[Capture]:
    """Route every record (level ``trace`` and up) to a ``Capture`` for the test's duration.

    The previous pipeline is replaced for the test and a default one is
    created again afterwards on first use.
    """
    capture = Capture()
    config.configure(sinks=[capture], level="trace")
    try:
        yield capture
    finally:
        config.shutdown(timeout=10)


@pytest.fixture
def wait_until() -> Any:
    """The ``logflume.testing.wait_until`` function, as a fixture."""
    return _wait_until
