"""A shared store with a local fallback tier: Redis when it answers, this host's store when it does not.

Guarantees, on top of :mod:`.base`:

- While the primary (Redis) answers, every operation goes to it and the local tier is untouched.
- The first failure logs one warning and switches every operation to the local tier (a disk
  store, or memory); nothing raises into the caller. The primary is tried again at most every
  ``retry_interval`` seconds, so an outage costs no timeouts on the lookup path.
- When the primary answers again, one info message is logged, the entries written locally during
  the outage that the owner asked to ``replay`` are copied to it (``add``: never overwriting what
  another host wrote meanwhile, with their remaining lifetime), and the primary is used again. No
  restart is needed.
- Entries the owner asks to ``mirror`` (e.g. the per-install secret) are copied to the local tier
  whenever they are read from the primary, so an outage later in this process still finds them.

Which keys to replay or mirror is the owner's decision (:mod:`vision_cache.ledger`): this class
knows nothing of what keys mean.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .._log import logger
from .base import Store, StoreError


def _never(key: str) -> bool:
    return False


class FallbackStore(Store):
    def __init__(self, primary: Store, local: Store, retry_interval: float = 5.0, *,
                 replay: Callable[[str], bool] = _never, mirror: Callable[[str], bool] = _never) -> None:
        self.primary, self.local = primary, local
        self._replay, self._mirror = replay, mirror
        self._mirrored: set[str] = set()
        self.kind = primary.kind
        self.location = f"{primary.location} (local fallback: {local.kind} {local.location})"
        self.retry_interval = retry_interval
        self._down_since: float | None = None
        self._failed_at = 0.0
        self._written_while_down: dict[str, float | None] = {}  # key -> its expiry (unix time) or None
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def _route(self, name: str, *args, replay_key: str | None = None, ttl: float | None = None):
        """Run ``name`` on the primary if it is up (or due for a retry), else on the local tier."""
        if self._down_since is None or time.monotonic() - self._failed_at >= self.retry_interval:
            try:
                result = getattr(self.primary, name)(*args)
            except StoreError as exc:
                self._mark_down(exc)
            else:
                if self._down_since is not None:
                    self._recover()
                return result
        result = getattr(self.local, name)(*args)
        if replay_key is not None and self._replay(replay_key):
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

    # -- Store API --------------------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        value = self._route("get", key)
        if value is not None and self._mirror(key) and key not in self._mirrored and not self.degraded:
            try:
                self.local.set(key, value, None)
                self._mirrored.add(key)
            except StoreError:
                pass
        return value

    def get_many(self, keys: list[str]) -> list[Any | None]:
        return self._route("get_many", keys)

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

    def get_raw(self, key: str) -> bytes | None:
        return self._route("get_raw", key)

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
