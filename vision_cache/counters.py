"""Usage counters kept in the shared store, so ``vision-cache stats`` describes every worker.

Incrementing a shared counter on every hit would turn each hit into a write, so counts collect in
memory and are added to the store at most once per ``flush_interval`` (and at exit or close).
A crash loses at most that interval's counts; counters are statistics, never verdicts.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref

from .stores.base import Store, StoreError

PREFIX = "stats\x1f"
NAMES = (
    "hits_memory",  # answered from this process's memory tier
    "hits_store",  # answered from the shared store
    "hits_stale",  # answered from an expired alias or the HF cache while the Hub was unreachable
    "misses",  # nothing usable stored
    "detections",  # detector runs (at most one per cold key across processes)
    "lease_waits",  # lookups that waited for another process's detection
    "unknown",  # lookups answered unknown (Hub down, timeouts...)
    "errors",  # store failures survived
)


class Counters:
    def __init__(self, store_getter, flush_interval: float = 1.0) -> None:
        self._store_getter = store_getter  # the cache may swap its store when it degrades
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()
        self._flush_interval = flush_interval
        self._last_flush = time.monotonic()
        _live.add(self)

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            self._pending[name] = self._pending.get(name, 0) + count
            due = time.monotonic() - self._last_flush >= self._flush_interval
        if due:
            self.flush()

    def flush(self) -> None:
        """Add pending counts to the store. Never raises; what cannot be written is kept for later."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        store: Store = self._store_getter()
        for name, count in pending.items():
            try:
                store.incr(PREFIX + name, count)
            except StoreError:
                with self._lock:
                    self._pending[name] = self._pending.get(name, 0) + count


def read(store: Store) -> dict[str, int]:
    """Every counter in ``store`` (0 for those never incremented)."""
    totals = dict.fromkeys(NAMES, 0)
    for key, value, _ in store.scan(PREFIX):
        if isinstance(value, int) and not isinstance(value, bool):
            totals[key[len(PREFIX):]] = value
    return totals


_live: weakref.WeakSet[Counters] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for counters in list(_live):
        counters.flush()
