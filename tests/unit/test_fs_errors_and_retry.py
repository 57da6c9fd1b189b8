"""logflume.fs: errno classification and retry with jittered exponential backoff."""

from __future__ import annotations

import errno

import pytest

from logflume.fs import (
    ErrorKind,
    OperationFailed,
    RetryPolicy,
    classify_errno,
    is_out_of_space,
    is_transient,
    retry_call,
)


@pytest.mark.parametrize("code", [errno.EAGAIN, errno.EBUSY, errno.ETXTBSY, errno.EINTR])
def test_busy_and_again_errors_are_transient(code: int) -> None:
    assert classify_errno(code) is ErrorKind.TRANSIENT
    assert is_transient(OSError(code, "x"))


@pytest.mark.parametrize(
    "code", [errno.ENOENT, errno.EACCES, errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO]
)
def test_missing_denied_full_and_readonly_errors_are_permanent(code: int) -> None:
    assert classify_errno(code) is ErrorKind.PERMANENT
    assert not is_transient(OSError(code, "x"))


def test_unknown_errno_and_non_oserrors_are_not_retried() -> None:
    assert classify_errno(None) is ErrorKind.PERMANENT
    assert classify_errno(99999) is ErrorKind.PERMANENT
    assert not is_transient(ValueError("no errno"))


def test_out_of_space_covers_enospc_and_quota_only() -> None:
    assert is_out_of_space(OSError(errno.ENOSPC, "full"))
    assert is_out_of_space(OSError(errno.EDQUOT, "quota"))
    assert not is_out_of_space(OSError(errno.EIO, "io"))


def test_default_backoff_is_point_one_point_two_point_four_seconds() -> None:
    policy = RetryPolicy()
    assert [policy.delay(n, rand=0.5) for n in range(3)] == [0.1, 0.2, 0.4]


def test_jitter_stays_within_ten_percent_and_delay_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=3.0, jitter=0.1)
    assert policy.delay(0, rand=0.0) == pytest.approx(0.9)
    assert policy.delay(0, rand=0.999999) == pytest.approx(1.1, abs=1e-5)
    assert policy.delay(10, rand=0.5) == 3.0
    delays = {policy.delay(1) for _ in range(50)}
    assert all(1.8 <= d <= 2.2 for d in delays) and len(delays) > 1


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=-1)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.5)


class Flaky:
    """Fails with ``code`` the first ``failures`` calls, then returns ``"ok"``."""

    def __init__(self, failures: int, code: int) -> None:
        self.failures = failures
        self.code = code
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError(self.code, "injected")
        return "ok"


def test_transient_error_is_retried_with_backoff_until_it_succeeds() -> None:
    sleeps: list[float] = []
    retries: list[int] = []
    op = Flaky(2, errno.EBUSY)
    policy = RetryPolicy(attempts=3, base_delay=0.1, jitter=0.0)
    result = retry_call(
        op,
        operation="rename",
        path="/x",
        policy=policy,
        sleep=sleeps.append,
        on_retry=lambda exc, n, d: retries.append(n),
    )
    assert result == "ok"
    assert op.calls == 3
    assert sleeps == [0.1, 0.2]
    assert retries == [0, 1]


def test_exhausted_retries_raise_operation_failed_with_every_attempt_counted() -> None:
    sleeps: list[float] = []
    op = Flaky(100, errno.EAGAIN)
    with pytest.raises(OperationFailed) as info:
        retry_call(
            op,
            operation="write",
            path="/logs/app.log",
            policy=RetryPolicy(attempts=3, jitter=0.0),
            sleep=sleeps.append,
        )
    failure = info.value
    assert op.calls == 4  # attempts counts retries, not total calls
    assert sleeps == [0.1, 0.2, 0.4]
    assert (failure.operation, failure.filename, failure.errno) == (
        "write",
        "/logs/app.log",
        errno.EAGAIN,
    )
    assert failure.attempts == 4 and failure.kind is ErrorKind.TRANSIENT
    assert isinstance(failure, OSError)
    assert "EAGAIN" in str(failure) and "4 attempts" in str(failure)


def test_permanent_error_is_raised_at_once_without_sleeping() -> None:
    sleeps: list[float] = []
    op = Flaky(1, errno.EACCES)
    with pytest.raises(OperationFailed) as info:
        retry_call(
            op, operation="open", path="/ro/app.log", policy=RetryPolicy(), sleep=sleeps.append
        )
    assert op.calls == 1 and sleeps == []
    assert info.value.attempts == 1 and info.value.kind is ErrorKind.PERMANENT


def test_non_os_errors_pass_through_untouched() -> None:
    def boom() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        retry_call(boom, operation="x", path="p", policy=RetryPolicy(), sleep=lambda s: None)
