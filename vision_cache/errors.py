"""Every exception vision_cache defines, one class per distinct failure, in one place.

Two groups, by who sees them:

- **Raised into the caller** (all :class:`VisionCacheError`): bad input and bad configuration.
  Each is named for what the caller does about it, and each is a :class:`ValueError` where the
  fix is a different argument. ``VisionCache.lookup`` raises these; the Studio drop-ins
  (``is_vision_model`` and friends) never raise at all.
- **Internal** (:class:`StoreError`, :class:`SidecarError`, and the migration errors): a store,
  Redis or a sidecar interpreter failed. The lookup path catches them and degrades (memory-only
  store, an ``unknown`` verdict); operator commands (``vision-cache migrate``, ``doctor``) report them.

Messages never contain a token, a password or a secret.
"""

from __future__ import annotations


class VisionCacheError(Exception):
    """Base class of every exception vision_cache raises on purpose."""


# -- bad input: fix the argument -----------------------------------------------------------------


class InvalidModelNameError(VisionCacheError, ValueError):
    """The model name is neither a valid Hub repo id nor an existing local path.

    Fix the argument; nothing was looked up or written.
    """


class LocalModelNotFoundError(InvalidModelNameError, FileNotFoundError):
    """The model name is written like a local path, but nothing exists there. Fix the path.

    A subclass of both :class:`InvalidModelNameError` (so one ``except ValueError`` catches every
    bad name) and :class:`FileNotFoundError`.
    """


class InvalidRevisionError(VisionCacheError, ValueError):
    """The revision is not a usable git revision name or commit sha. Fix the argument."""


class InvalidVariantError(VisionCacheError, ValueError):
    """The ``gguf_variant`` argument is not a quant name (``Q4_K_M``). Fix the argument."""


class InvalidQuestionError(VisionCacheError, ValueError):
    """The ``question`` argument is not one vision_cache answers (``vision``, ``audio_type``, ``embedding``)."""


class InvalidTokenError(VisionCacheError, ValueError):
    """The ``hf_token`` argument is not a string (or None). Fix the argument.

    The message never contains the token itself.
    """


class ConfigurationError(VisionCacheError, ValueError):
    """A constructor argument or ``VISION_CACHE_*`` environment variable is invalid. Fix the setting."""


# -- the store's schema: upgrade, or retry ---------------------------------------------------------


class NewerSchemaError(VisionCacheError):
    """The store was written by a newer vision_cache. Upgrade vision_cache; the store is left untouched."""


class MigrationLockTimeout(VisionCacheError):
    """Another process held the migration lease for too long. Retry; nothing was changed by us."""


# -- internal failures: the lookup path degrades instead of raising --------------------------------


class StoreError(Exception):
    """The store's backend failed (I/O, SQLite, a lost Redis connection, an entry that is not JSON).

    Raised by :mod:`vision_cache.stores` only; the ledger turns it into a degraded answer, so it
    never reaches a caller of ``lookup``. The message names the location, never a credential.
    """


class StoreUnavailable(StoreError):
    """The whole backend cannot be reached (connection refused, timed out): not one bad entry.

    Only this makes a store with a local fallback tier switch to that tier.
    """


class SidecarError(Exception):
    """The sidecar interpreter crashed, timed out or printed something unreadable (an ``unknown``)."""
