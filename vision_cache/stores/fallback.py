"""A shared store with a local fallback tier: Redis when it answers, this host's store when it does not.

Guarantees, on top of :mod:`.base`:

- While the primary (Redis) answers, every operation goes to it and the local tier is untouched.
- Only :class:`~.base.StoreUnavailable` (the primary as a whole failing: unreachable, timed out,
  refusing us) switches to the local tier (a disk store, or memory), logging one warning. Any
  other :class:`~.base.StoreError` (one bad entry: a value that is not JSON, a key of another
  type) is raised for that call only, and the primary stays in use for every other key. The
  primary is tried again at most every ``retry_interval`` seconds.
- When the primary answers again, one info message is logged, the verdicts and aliases written
  locally during the outage are copied to it (``add``: never overwriting what another host wrote
  meanwhile, with their remaining lifetime), and the primary is used again. No restart is needed.
- The secret is the primary's; a copy is kept in the local tier, so scopes computed during an
  outage match the primary's. Without a copy (the primary was never reached), the local secret is
  used and nothing is copied back (those keys would not match the primary's scopes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from .._log import logger
from .base import Store, StoreError, StoreUnavailable

SECRET_COPY_KEY = "meta\x1fprimary-secret"
_REPLAYED_FAMILIES = ("verdict\x1f", "alias\x1f")


class FallbackStore(Store):
    def __init__(self, primary: Store, local: Store, retry_interval: float = 5.0) -> None:
        self.primary, self.local = primary, local
        self.kind = primary.kind
        self.location = f"{primary.location} (local fallback: {local.kind} {local.location})"
        self.retry_interval = retry_interval
        self._down_since: float | None = None
        self._failed_at = 0.0
        self._written_while_down: dict[str, float | None] = {}  # key -> its expiry (unix time) or None
        self._secret: bytes | None = None
        self._secret_is_primary = False
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def _route(self, name: str, *args, replay_key: str | None = None, ttl: float | None = None):
        """Run ``name`` on the primary if it is up (or due for a retry), else on the local tier."""
        if self._down_since is None or time.monotonic() - self._failed_at >= self.retry_interval:
            try:
                result = getattr(self.primary, name)(*args)
            except StoreUnavailable as exc:  # any other StoreError is about this call only: raised
                self._mark_down(exc)
            else:
                if self._down_since is not None:
                    self._recover()
                return result
        result = getattr(self.local, name)(*args)
        if replay_key is not None and replay_key.startswith(_REPLAYED_FAMILIES):
            self._written_while_down[replay_key] = None if ttl is None else time.time() + ttl
        return result

    def _mark_down(self, exc: StoreError) -> None:
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
                logger().warning("vision_cache: %s is unreachable (%s); using the local %s store until it returns",
                               self.primary.location, exc, self.local.kind)
            self._failed_at = time.monotonic()

    def _recover(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            outage = time.monotonic() - self._down_since
            self._down_since = None
            pending, self._written_while_down = self._written_while_down, {}
        copied = 0
        if self._secret_is_primary or self._primary_secret_matches():
            for key, expires_at in pending.items():
                ttl = None if expires_at is None else expires_at - time.time()
                try:
                    value = self.local.get(key)
                    if value is not None and (ttl is None or ttl > 0):
                        copied += bool(self.primary.add(key, value, ttl))
                except StoreError:
                    pass
        logger().info("vision_cache: %s is back after %.0f s; copied %d entries written meanwhile",
                    self.primary.location, outage, copied)

    def _primary_secret_matches(self) -> bool:
        try:
            return self._secret is not None and self.primary.secret() == self._secret
        except StoreError:
            return False

    # -- Store API --------------------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        return self._route("get", key)

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        self._route("set", key, value, ttl, replay_key=key, ttl=ttl)

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        return self._route("add", key, value, ttl, replay_key=key, ttl=ttl)

    def delete(self, key: str) -> bool:
        return self._route("delete", key)

    def compare_and_delete(self, key: str, expected: Any) -> bool:
        return self._route("compare_and_delete", key, expected)

    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        return self._route("compare_and_touch", key, expected, ttl)

    def incr(self, key: str, delta: int = 1) -> int:
        return self._route("incr", key, delta)

    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        return iter(list(self._route("scan", prefix)))

    def expire(self) -> int:
        return self._route("expire")

    def clear(self) -> int:
        return self._route("clear")

    def secret(self) -> bytes:
        if self._secret is not None and (self._secret_is_primary or self._down_since is not None):
            return self._secret
        try:
            self._secret = self.primary.secret()
            self._secret_is_primary = True
            try:
                self.local.set(SECRET_COPY_KEY, self._secret.hex(), None)
            except StoreError:
                pass
        except StoreError as exc:
            self._mark_down(exc)
            copy = self.local.get(SECRET_COPY_KEY)
            if isinstance(copy, str) and len(copy) == 64 and all(c in "0123456789abcdef" for c in copy):
                self._secret, self._secret_is_primary = bytes.fromhex(copy), True
            else:
                self._secret = self.local.secret()
        return self._secret

    def size_bytes(self) -> int | None:
        return self._route("size_bytes")

    def check(self) -> list[str]:
        problems = self._route("check")
        if self.degraded:
            problems = [f"{self.primary.location} is unreachable; using the local store", *problems]
        return problems

    def close(self) -> None:
        self.primary.close()
        self.local.close()
