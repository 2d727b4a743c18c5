"""Where verdicts live: one abstract :class:`~.base.Store`, one module per backend.

- :mod:`.disk`: a ``diskcache`` folder shared by every process on one host (the default).
- :mod:`.redis`: a Redis server shared by workers on several hosts.
- :mod:`.memory`: this process only; what the cache degrades to when nothing else works.
"""

from .base import StoreError, Store

__all__ = ["Store", "StoreError"]
