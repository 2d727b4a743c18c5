"""Every way a detection can fail, mapped to a verdict kind, in one table.

| failure                                         | kind       | why                                          |
|-------------------------------------------------|------------|----------------------------------------------|
| repository not found (or private): 401/404      | denied     | this auth scope cannot see it (re-checked)   |
| gated repository: 401/403 GatedRepo             | denied     | access may be granted later (re-checked)     |
| other 401 / 403                                 | denied     | unauthorised for this auth scope             |
| disabled repository                             | denied     | the Hub refuses to serve it                  |
| revision not found: 404 RevisionNotFound        | denied     | the name may be created later (re-checked)   |
| no config.json at the commit (and no GGUF)      | not_vision | read the commit: nothing says vision         |
| config.json is not valid JSON / not an object   | not_vision | read the commit: it cannot be loaded         |
| network error, timeout, connection refused      | unknown    | transient: never stored                      |
| HTTP 5xx, 429, any other unexpected HTTP status | unknown    | transient: never stored                      |
| offline and nothing in the local HF cache       | unknown    | we do not know: never stored                 |
| sidecar interpreter crashed or timed out        | unknown    | transient: never stored                      |
| any other exception from a detector             | unknown    | a bug is not an answer: never stored         |

``classify_exception`` applies the table to an exception; the ``not_vision`` rows are decided
where the file is read (they are answers, not exceptions).
"""

from __future__ import annotations

from ..verdict import Kind


class SidecarError(Exception):
    """The sidecar interpreter crashed, timed out or printed something unreadable."""


def classify_exception(exc: BaseException) -> tuple[Kind, str]:
    """Map an exception raised while detecting to ``(kind, evidence)`` per the table above."""
    from huggingface_hub.errors import (
        DisabledRepoError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    status = _status(exc)
    if isinstance(exc, GatedRepoError):
        return Kind.DENIED, f"gated repository: {status or 'no access'}"
    if isinstance(exc, RepositoryNotFoundError):
        return Kind.DENIED, f"repository not found or private: {status or 'not found'}"
    if isinstance(exc, RevisionNotFoundError):
        return Kind.DENIED, f"revision not found: {status or 404}"
    if isinstance(exc, DisabledRepoError):
        return Kind.DENIED, f"repository disabled: {status}"
    if isinstance(exc, HfHubHTTPError) and status in (401, 403):
        return Kind.DENIED, f"unauthorised: {status}"
    if isinstance(exc, SidecarError):
        return Kind.UNKNOWN, f"sidecar failed: {exc}"
    if isinstance(exc, (OfflineModeIsEnabled, LocalEntryNotFoundError)):
        return Kind.UNKNOWN, "offline and not in the local Hugging Face cache"
    if isinstance(exc, HfHubHTTPError):
        return Kind.UNKNOWN, f"Hub error: HTTP {status}" if status else f"Hub error: {type(exc).__name__}"
    if isinstance(exc, TimeoutError):
        return Kind.UNKNOWN, "timed out talking to the Hub"
    if isinstance(exc, (ConnectionError, OSError)) or _is_transport_error(exc):
        return Kind.UNKNOWN, f"network error: {type(exc).__name__}"
    return Kind.UNKNOWN, f"detector error: {type(exc).__name__}"


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _is_transport_error(exc: BaseException) -> bool:
    return any(cls.__name__ in ("TransportError", "TimeoutException", "RequestError", "NetworkError")
               for cls in type(exc).__mro__)
