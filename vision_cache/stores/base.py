"""The contract every store keeps, whatever its backend.

A store maps ``str`` keys to JSON values with an optional per-entry lifetime. It is shared: any
number of processes (and, for Redis, hosts) may open the same location at once.

Guarantees every backend gives:

- Values are JSON, written and read as JSON text: nothing from a store is ever unpickled.
- ``add``, ``compare_and_delete``, ``compare_and_touch`` and ``incr`` are atomic across processes.
- An expired entry is never returned, even before it is physically dropped.
- A backend failure (I/O error, SQLite error, lost Redis connection, an entry that is not valid
  JSON) raises :class:`StoreError` and nothing else; :class:`StoreUnavailable` (a subclass) when
  the whole backend cannot be reached. Callers decide how to degrade.

A store knows nothing of what its keys mean: the key layout, record formats, the per-install
secret and every lifetime belong to :mod:`vision_cache.ledger`.
"""

from __future__ import annotations

import abc

from ..errors import StoreError, StoreUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["Store", "StoreError", "StoreUnavailable", "decode_json"]


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

    def get_many(self, keys: list[str]) -> list[Any | None]:
        """The values under ``keys``, in order (None where absent or expired), in one round trip
        where the backend allows it. Not a snapshot unless a backend says so."""
        return [self.get(key) for key in keys]

    def get_text(self, key: str) -> str | bytes | None:
        """The JSON text of the value under ``key``, not parsed (None if absent or expired): one read,
        like ``get``. Equal texts are equal values, so a caller may remember what it made of a text
        and skip parsing and validating it again (the ledger does, on the hit path).

        Backends that hold the text return it as stored; this default re-encodes ``get``'s value
        (canonically: equal texts still mean equal values). Raises :class:`StoreError` like ``get``.
        """
        import json

        value = self.get(key)
        return None if value is None else json.dumps(value, separators=(",", ":"))

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

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` (or StoreError) unless the backend answers. Reads one key by default."""
        self.get("")

    def get_raw(self, key: str) -> bytes | None:
        """The bytes under ``key``, never decoded, for entries an older release wrote outside the JSON
        contract (read by migrations only). None where absent, or where this backend has none."""
        return None

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
