"""The contract every store keeps, whatever its backend.

A store maps ``str`` keys to JSON values with an optional per-entry lifetime. It is shared: any
number of processes (and, for Redis, hosts) may open the same location at once.

Guarantees every backend gives:

- Values are JSON, written and read as JSON text: nothing from a store is ever unpickled.
- ``add``, ``compare_and_delete``, ``compare_and_touch`` and ``incr`` are atomic across processes.
- An expired entry is never returned, even before it is physically dropped.
- A backend failure (I/O error, SQLite error, lost Redis connection, an entry that is not valid
  JSON) raises :class:`StoreError` and nothing else. Callers decide how to degrade.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import Any


class StoreError(Exception):
    """The backend failed. The message names the location, never a credential."""


class StoreUnavailable(StoreError):
    """The backend as a whole cannot serve (unreachable, timed out, refusing us), not one bad entry."""


def decode_json(text: str | bytes) -> Any:
    """Parse stored JSON text; anything unparseable (including a planted, absurdly nested document
    that would exhaust the recursion limit) raises ValueError, which every store treats as a bad entry."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("stored JSON is nested too deeply") from None


class Store(abc.ABC):
    """Abstract base of the disk, Redis and memory stores."""

    #: "disk", "redis" or "memory"
    kind: str = "abstract"

    #: where the data lives, safe to print (no password)
    location: str = ""

    @abc.abstractmethod
    def get(self, key: str) -> Any | None:
        """The value under ``key``, or None if absent or expired."""

    @abc.abstractmethod
    def set(self, key: str, value: Any, ttl: float | None) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (None: no expiry), replacing any value."""

    @abc.abstractmethod
    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        """Atomically store ``value`` only if ``key`` is absent or expired. True if it was stored."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``. True if it was there."""

    @abc.abstractmethod
    def compare_and_delete(self, key: str, expected: Any) -> bool:
        """Atomically remove ``key`` only if its value equals ``expected`` (a lease's release)."""

    @abc.abstractmethod
    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        """Atomically extend ``key``'s lifetime to ``ttl`` only if its value equals ``expected`` (a lease's renewal)."""

    @abc.abstractmethod
    def incr(self, key: str, delta: int = 1) -> int:
        """Atomically add ``delta`` to the integer under ``key`` (0 if absent); return the new value."""

    @abc.abstractmethod
    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        """Yield ``(key, value, expires_at)`` for every live entry whose key starts with ``prefix``.

        Entries that are malformed are skipped, not raised.
        """

    @abc.abstractmethod
    def expire(self) -> int:
        """Drop expired entries now; return how many were dropped."""

    @abc.abstractmethod
    def clear(self) -> int:
        """Drop every entry of this store (not the secret); return how many were dropped."""

    @abc.abstractmethod
    def secret(self) -> bytes:
        """The per-install secret that keys auth-scope fingerprints; created on first use."""

    def size_bytes(self) -> int | None:
        """Roughly how much space the store takes, or None if unknown."""
        return None

    def check(self) -> list[str]:
        """Problems an integrity check finds (empty: healthy). For ``vision-cache doctor``."""
        return []

    def close(self) -> None:  # noqa: B027 - a no-op by default: not every backend holds connections
        """Release connections. The store may be reopened by using it again."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"
