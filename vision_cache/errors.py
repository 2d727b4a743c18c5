"""Every exception vision_cache raises into its caller, one class per distinct failure.

Only *bad input* and *bad configuration* raise: a broken store, a Redis outage or a Hub
outage never does (they degrade the cache or yield an ``unknown`` verdict instead).
Each class is named for what the caller should do about it.
"""

from __future__ import annotations


class VisionCacheError(Exception):
    """Base class of every exception vision_cache raises on purpose."""


class InvalidModelNameError(VisionCacheError, ValueError):
    """The model name is neither a valid Hub repo id nor an existing local path.

    Fix the argument; nothing was looked up or written.
    """


class InvalidRevisionError(VisionCacheError, ValueError):
    """The revision is not a usable git revision name or commit sha. Fix the argument."""


class InvalidTokenError(VisionCacheError, ValueError):
    """The ``hf_token`` argument is not a string (or None). Fix the argument.

    The message never contains the token itself.
    """


class LocalModelNotFoundError(InvalidModelNameError, FileNotFoundError):
    """The model name is written like a local path, but nothing exists there. Fix the path.

    A subclass of both :class:`InvalidModelNameError` (so one ``except ValueError`` catches every
    bad name) and :class:`FileNotFoundError`.
    """


class ConfigurationError(VisionCacheError, ValueError):
    """A constructor argument or ``VISION_CACHE_*`` environment variable is invalid. Fix the setting."""
