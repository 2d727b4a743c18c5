"""A shared store with a local fallback tier: Redis when it answers, this host's store when it does not.

Guarantees, on top of :mod:`.base`:

- While the primary (Redis) answers, every operation goes to it and the local tier is untouched.
- Only :class:`~.base.StoreUnavailable` (the primary as a whole failing: unreachable, timed out,
  refusing us) switches to the local tier: one warning is logged and every operation goes local.
  Any other :class:`~.base.StoreError` (one bad entry: a value that is not JSON, a key of another
  type) is raised for that call only, and the primary stays in use for every other key.
- While the primary is down, no caller ever waits on it: a background thread (one per store,
  started on the first failure, a daemon) re-probes it at most every ``retry_interval`` seconds
  (:meth:`~.base.Store.ping`), so a hung server costs a caller at most the one operation that found
  it hung.
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

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .._log import logger
from .base import Store, StoreError, StoreUnavailable

_PROBE_TICK = 0.1  # the prober re-reads retry_interval this often, so a changed interval applies at once

T = TypeVar("T")


def _never(key: str) -> bool:
    return False


class FallbackStore(Store):
    def __init__(self, primary: Store, local: Store, retry_interval: float = 5.0, *,
                 replay: Callable[[str], bool] = _never, mirror: Callable[[str], bool] = _never) -> None:
        self.primary, self.local = primary, local
        self._replay_wanted, self._mirror = replay, mirror
        self._mirrored: set[str] = set()
        self.kind = primary.kind
        self.location = f"{primary.location} (local fallback: {local.kind} {local.location})"
        self.retry_interval = retry_interval
        self._down_since: float | None = None
        self._failed_at = 0.0
        self._written_while_down: dict[str, float | None] = {}  # key -> its expiry (unix time) or None
        self._lock = threading.Lock()
        self._prober: tuple[threading.Thread, threading.Event] | None = None
        self._prober_pid = -1

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def _route(self, operation: Callable[[Store], T], replay_key: str | None = None,
               ttl: float | None = None) -> T:
        """Run ``operation`` on the primary while it is up, else on the local tier (never waiting on the
        primary: the background prober finds out when it is back)."""
        if self._down_since is None:
            try:
                return operation(self.primary)
            except StoreUnavailable as exc:
                self._mark_down(exc)
        else:
            self._ensure_prober()
        result = operation(self.local)
        if replay_key is not None and self._replay_wanted(replay_key):
            expires_at = _expiry(ttl)
            with self._lock:
                if self._down_since is not None:
                    self._written_while_down[replay_key] = expires_at
                    return result
            self._replay_pending({replay_key: expires_at})  # the primary came back while we wrote locally
        return result

    def _mark_down(self, exc: StoreError) -> None:
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
                logger().warning("vision_cache: %s is unreachable (%s); using the local %s store until it returns",
                                 self.primary.location, exc, self.local.kind)
            self._failed_at = time.monotonic()
        self._ensure_prober()

    def _ensure_prober(self) -> None:
        """Start the background prober unless one is running in this process."""
        prober = self._prober
        if prober is not None and self._prober_pid == os.getpid() and prober[0].is_alive():
            return
        with self._lock:
            prober = self._prober
            if self._down_since is None or (
                    prober is not None and self._prober_pid == os.getpid() and prober[0].is_alive()):
                return
            stop = threading.Event()
            thread = threading.Thread(target=self._probe_until_back, args=(stop,), daemon=True,
                                      name="vision_cache-primary-probe")
            self._prober, self._prober_pid = (thread, stop), os.getpid()
        thread.start()

    def _probe_until_back(self, stop: threading.Event) -> None:
        """Re-probe the primary every ``retry_interval`` seconds until it answers, then recover."""
        while not stop.is_set():
            with self._lock:
                if self._down_since is None:
                    return
                wait = self._failed_at + self.retry_interval - time.monotonic()
            if wait > 0:
                stop.wait(min(wait, _PROBE_TICK))
                continue
            try:
                self.primary.ping()
            except StoreUnavailable:
                with self._lock:
                    self._failed_at = time.monotonic()
                continue
            except StoreError:
                pass  # it answered: whatever that key holds, the primary is reachable
            except Exception as exc:  # a bug must not kill the prober silently and leave us degraded
                logger().debug("vision_cache: probing %s failed: %r", self.primary.location, exc)
                with self._lock:
                    self._failed_at = time.monotonic()
                continue
            if not stop.is_set():
                self._recover()
            return

    def _recover(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            outage = time.monotonic() - self._down_since
            self._down_since = None
            pending, self._written_while_down = self._written_while_down, {}
        copied = self._replay_pending(pending)
        logger().info("vision_cache: %s is back after %.0f s; copied %d entries written meanwhile",
                      self.primary.location, outage, copied)

    def _replay_pending(self, pending: dict[str, float | None]) -> int:
        """Copy entries written locally during an outage to the primary (never overwriting); how many."""
        copied = 0
        for key, expires_at in pending.items():
            ttl = None if expires_at is None else expires_at - time.time()
            try:
                value = self.local.get(key)
                if value is not None and (ttl is None or ttl > 0):
                    copied += bool(self.primary.add(key, value, ttl))
            except StoreError:
                pass
        return copied

    # -- Store API --------------------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        value = self._route(lambda store: store.get(key))
        if value is not None and self._mirror(key) and key not in self._mirrored and not self.degraded:
            try:
                self.local.set(key, value, None)
                self._mirrored.add(key)
            except StoreError:
                pass
        return value

    def get_many(self, keys: list[str]) -> list[Any | None]:
        return self._route(lambda store: store.get_many(keys))

    def get_text(self, key: str) -> str | bytes | None:
        return self._route(lambda store: store.get_text(key))

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        self._route(lambda store: store.set(key, value, ttl), replay_key=key, ttl=ttl)

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        return self._route(lambda store: store.add(key, value, ttl), replay_key=key, ttl=ttl)

    def delete(self, key: str) -> bool:
        return self._route(lambda store: store.delete(key))

    def compare_and_delete(self, key: str, expected: Any) -> bool:
        return self._route(lambda store: store.compare_and_delete(key, expected))

    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        return self._route(lambda store: store.compare_and_touch(key, expected, ttl))

    def incr(self, key: str, delta: int = 1) -> int:
        return self._route(lambda store: store.incr(key, delta))

    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        # materialised inside the routing: a generator would fail only later, outside it
        return iter(self._route(lambda store: list(store.scan(prefix))))

    def expire(self) -> int:
        return self._route(lambda store: store.expire())

    def get_raw(self, key: str) -> bytes | None:
        return self._route(lambda store: store.get_raw(key))

    def size_bytes(self) -> int | None:
        return self._route(lambda store: store.size_bytes())

    def check(self) -> list[str]:
        problems = self._route(lambda store: store.check())
        if self.degraded:
            problems = [f"{self.primary.location} is unreachable; using the local store", *problems]
        return problems

    def close(self) -> None:
        with self._lock:
            prober, self._prober = self._prober, None
        if prober is not None:  # stop re-probing; using the store again while degraded restarts it
            prober[1].set()
            if prober[0] is not threading.current_thread():
                prober[0].join(timeout=2.0)
        self.primary.close()
        self.local.close()


def _expiry(ttl: float | None) -> float | None:
    """The unix time a ``ttl`` from now ends (None: never, including lifetimes too long to represent)."""
    try:
        return None if ttl is None else time.time() + ttl
    except (OverflowError, TypeError):
        return None
