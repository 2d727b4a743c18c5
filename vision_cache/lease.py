"""A lease: a cross-process lock with a short expiry that its holder keeps renewing.

Used for single-flight detection (one process detects a cold key, the others wait for its
verdict) and for running migrations once. The lease is short (``ttl``) and a background thread
renews it every ``ttl / 3`` while the holder works, so a holder that dies is replaced within
about ``ttl`` seconds whatever the length of its work, and a slow but healthy holder is never
overtaken. Renewal and release compare the owner token first, so a holder whose lease was taken
over can never extend or delete its successor's lease.
"""

from __future__ import annotations

import os
import threading
import time

from .stores.base import Store, StoreError

DEFAULT_LEASE_TTL = 10.0  # a dead holder's lease is taken over within this many seconds


class Lease:
    """One attempt to hold ``key`` in ``store``. Use :meth:`try_acquire`, then :meth:`release`."""

    def __init__(self, store: Store, key: str, ttl: float = DEFAULT_LEASE_TTL) -> None:
        self.store, self.key, self.ttl = store, key, ttl
        self.owner = f"{os.getpid()}:{os.urandom(16).hex()}"  # unique per attempt, across processes and hosts
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; start renewing it. Raises StoreError if the store fails."""
        if not self.store.add(self.key, self.owner, self.ttl):
            return False
        self._renewer = threading.Thread(target=self._renew_loop, name=f"vision_cache-lease-{self.key[:40]}",
                                         daemon=True)
        self._renewer.start()
        return True

    def acquire(self, timeout: float, poll: float = 0.05) -> bool:
        """Wait up to ``timeout`` seconds for the lease."""
        deadline = time.monotonic() + timeout
        while True:
            if self.try_acquire():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self.store.compare_and_touch(self.key, self.owner, self.ttl):
                    return  # taken over (we were too slow to renew): never touch the new holder's lease
            except StoreError:
                pass  # try again next period; if the store stays down the lease simply expires

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours. Never raises."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=1)
        try:
            self.store.compare_and_delete(self.key, self.owner)
        except StoreError:
            pass  # it expires on its own

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
