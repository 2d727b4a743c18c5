"""Drop-ins for Unsloth Studio's per-model questions, answered from a process-wide default cache:
``is_vision_model``, ``detect_audio_type``, ``detect_audio_type_checked``, ``is_embedding_model``
and ``is_audio_input_type``.

Studio's contract (``studio/backend/utils/models/model_config.py``): same signatures, and they
never raise. Bad input, a broken store and a failing Hub all answer ``False`` (with a log line);
see docs/studio.md.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .cache import VisionCache

_default: VisionCache | None = None
_default_lock = threading.Lock()


def default_cache() -> VisionCache:
    """The process-wide cache behind the module-level drop-ins, made on first use (settings from the environment)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                from .cache import VisionCache

                _default = VisionCache()
    return _default


def is_vision_model(model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                    revision: str | None = None, gguf_variant: str | None = None, require_image: bool = True) -> bool:
    """Drop-in for Unsloth Studio's ``is_vision_model``, answered from the default cache.

    Studio's whole signature and contract: True only for a vision-language model; never raises. Bad
    input, a bad ``VISION_CACHE_*`` setting, a broken store or a failing Hub answer False with a log
    line; a transient failure is not remembered (the next call asks again).
    """
    cache = _cache_or_none()
    if cache is None:
        return False
    return cache.is_vision_model(model_name, hf_token, local_files_only, revision, gguf_variant, require_image)


def detect_audio_type(model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                      revision: str | None = None) -> str | None:
    """Drop-in for Studio's ``detect_audio_type``: one of ``snac``, ``csm``, ``bicodec``, ``dac``,
    ``whisper``, ``audio_vlm``, or None. Never raises."""
    cache = _cache_or_none()
    return None if cache is None else cache.detect_audio_type(model_name, hf_token, local_files_only, revision)


def detect_audio_type_checked(model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                              revision: str | None = None) -> tuple[str | None, bool]:
    """Drop-in for Studio's ``detect_audio_type_checked``: ``(audio type or None, definitive)``. Never raises."""
    cache = _cache_or_none()
    if cache is None:
        return None, False
    return cache.detect_audio_type_checked(model_name, hf_token, local_files_only, revision)


def is_embedding_model(model_name: str, hf_token: str | None = None) -> bool:
    """Drop-in for Studio's ``is_embedding_model``. Never raises."""
    cache = _cache_or_none()
    return cache is not None and cache.is_embedding_model(model_name, hf_token)


def is_audio_input_type(audio_type: str | None) -> bool:
    """Studio's ``is_audio_input_type``: the model takes audio in (``whisper``, ``audio_vlm``)."""
    from .detect.audio import is_audio_input_type as rule

    return rule(audio_type)


def _cache_or_none() -> VisionCache | None:
    try:
        return default_cache()
    except Exception as exc:  # e.g. ConfigurationError from the environment: Studio's drop-ins never raise
        from ._log import logger

        logger().error("vision_cache: cannot build the default cache, answering False: %s", exc)
        return None
