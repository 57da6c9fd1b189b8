"""logflume.fs.FaultTracker: one alert per episode, deferred probes, counted recoveries."""

from __future__ import annotations

import errno
from pathlib import Path

from logflume.fs import Alert, AlertChannel, OperationFailed
from logflume.fs.faults import FaultTracker


def test_one_alert_per_episode_and_probes_wait_for_the_recover_interval(
    memory_tmp_path: Path,
) -> None:
    now = [100.0]
    alerts: list[Alert] = []
    channel = AlertChannel(memory_tmp_path / "A.txt", alerts.append, stderr=False)
    faults = FaultTracker(channel, "app", recover_interval=5.0, monotonic=lambda: now[0])
    failure = OperationFailed("write", "/x", errno.EIO, "I/O error", 1)
    assert faults.may_try("write") and not faults.failing("write")
    faults.fail("write", failure)
    faults.fail("write", failure)
    assert len(alerts) == 1 and faults.failures["write"] == 2
    assert faults.areas() == ["write"] and not faults.may_try("write")
    now[0] += 5.0
    assert faults.may_try("write")
    assert faults.recovered("write") and not faults.recovered("write")
    assert faults.recoveries == 1 and faults.areas() == []
    faults.fail("write", failure)  # a new episode alerts again
    assert len(alerts) == 2
