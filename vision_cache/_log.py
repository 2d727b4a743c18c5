"""The library's logger, imported only when there is something to say (``logging`` costs ~9 ms to import)."""


from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging


def logger() -> logging.Logger:
    import logging

    return logging.getLogger("vision_cache")
