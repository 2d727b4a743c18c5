"""Where verdicts live: one abstract :class:`~.base.Store`, one module per backend.

- :mod:`.disk`: a ``diskcache`` folder shared by every process on one host (the default).
- :mod:`.redis`: a Redis server shared by workers on several hosts.
- :mod:`.memory`: this process only; what the cache degrades to when nothing else works.
"""

from __future__ import annotations

from .base import Store, StoreError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Store", "StoreError", "open_store"]


def open_store(directory: str, url: str | None = None, redis_prefix: str = "vision_cache:", *,
               replay: Callable[[str], bool] | None = None, mirror: Callable[[str], bool] | None = None) -> Store:
    """Open the store (no migrations): the disk store in ``directory``; or with a ``redis://`` ``url``,
    Redis backed by that disk store (or memory) as the local tier for outages, which copies back the
    keys ``replay`` accepts and keeps a local copy of those ``mirror`` accepts (see :mod:`.fallback`).

    Raises:
        StoreError: the store cannot be opened.
    """
    from .disk import DiskStore

    if not url:
        return DiskStore(directory)
    from .fallback import FallbackStore
    from .memory import MemoryStore
    from .redis import RedisStore

    primary = RedisStore(url, prefix=redis_prefix)
    try:
        local: Store = DiskStore(directory)
    except StoreError:
        local = MemoryStore()
    return FallbackStore(primary, local, replay=replay or _never, mirror=mirror or _never)


def _never(key: str) -> bool:
    return False
