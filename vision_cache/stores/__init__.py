"""Where verdicts live: one abstract :class:`~.base.Store`, one module per backend.

- :mod:`.disk`: a ``diskcache`` folder shared by every process on one host (the default).
- :mod:`.redis`: a Redis server shared by workers on several hosts.
- :mod:`.memory`: this process only; what the cache degrades to when nothing else works.
"""

from .base import Store, StoreError

__all__ = ["Store", "StoreError", "open_store"]


def open_store(directory: str, url: str | None = None) -> Store:
    """Open the Redis store at ``url`` if given, else the disk store in ``directory`` (no migrations).

    Raises:
        StoreError: the store cannot be opened.
    """
    if url:
        from .redis import RedisStore

        return RedisStore(url)
    from .disk import DiskStore

    return DiskStore(directory)
