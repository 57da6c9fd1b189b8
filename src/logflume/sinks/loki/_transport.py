"""The HTTP side of the Loki sink: one keep-alive client, answers reduced to what matters."""

from __future__ import annotations

import base64
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import ConfigurationError, MissingDependencyError
from ._wire import PUSH_PATH, Payload


@dataclass(frozen=True)
class Answer:
    """What came back from one push: ``status`` 0 means no HTTP answer (``error`` says why)."""

    status: int
    text: str = ""
    retry_after: float | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """Worth sending again unchanged later: no answer, 408, 429, 5xx; also 401/403/404
        (credentials or the URL may be fixed while we keep the data)."""
        return self.status in (0, 401, 403, 404, 408, 429) or self.status >= 500


def push_url(url: str) -> str:
    """Accept the base URL (``http://loki:3100``) or the full push URL."""
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"Loki url must start with http:// or https://, got {url!r}")
    url = url.rstrip("/")
    return url if url.endswith(PUSH_PATH) else url + PUSH_PATH


def auth_headers(auth: tuple[str, str] | str | None) -> dict[str, str]:
    """``(user, password)`` for basic auth, a string for a bearer token."""
    if auth is None:
        return {}
    if isinstance(auth, str):
        return {"Authorization": f"Bearer {auth}"}
    if isinstance(auth, tuple) and len(auth) == 2:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    raise ConfigurationError("auth must be (user, password) for basic auth or a bearer token")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Transport:
    """POST push bodies with one keep-alive ``httpx.Client``; never raises for network errors."""

    def __init__(self, url: str, headers: Mapping[str, str], timeout: float) -> None:
        self.timeout = timeout
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise MissingDependencyError(
                "LokiSink needs httpx: pip install 'logflume[loki]'"
            ) from exc
        self.url = url
        self.headers = dict(headers)
        self._client = httpx.Client(timeout=timeout, headers=self.headers)

    def post(self, payload: Payload) -> Answer:
        try:
            response = self._client.post(
                self.url, content=payload.body, headers=payload.encoding.headers
            )
        except Exception as exc:  # httpx.HTTPError, and anything else the client raises
            return Answer(0, error=f"{type(exc).__name__}: {exc}")
        text = "" if response.is_success else response.text[:4096]
        return Answer(
            response.status_code, text, parse_retry_after(response.headers.get("Retry-After"))
        )

    def close(self) -> None:
        self._client.close()
