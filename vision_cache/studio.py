"""Drop-ins for Unsloth Studio's per-model questions, answered from a process-wide default cache.

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
                    revision: str | None = None) -> bool:
    """Drop-in for Unsloth Studio's ``is_vision_model``, answered from the default cache."""
    return default_cache().is_vision_model(model_name, hf_token, local_files_only, revision)
