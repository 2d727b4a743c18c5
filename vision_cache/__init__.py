"""vision_cache: a persistent, shared cache of "is this model a vision-language model?" verdicts.

    from vision_cache import VisionCache, Verdict, is_vision_model

    is_vision_model("Qwen/Qwen2-VL-2B-Instruct")          # True, detected once, then from the store
    VisionCache().lookup("meta-llama/Llama-3.2-1B")      # Verdict(kind=not_vision, source=store, ...)

Importing this package imports neither huggingface_hub nor transformers: a cache hit never needs them.
``__version__`` is read from the installed package's metadata on first access (one place: the
version in ``pyproject.toml``), so importing the package does not import ``importlib.metadata``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cache import VisionCache
from .errors import (
    ConfigurationError,
    InvalidModelNameError,
    InvalidQuestionError,
    InvalidRevisionError,
    InvalidTokenError,
    InvalidVariantError,
    LocalModelNotFoundError,
    VisionCacheError,
)
from .studio import (
    default_cache,
    detect_audio_type,
    detect_audio_type_checked,
    is_audio_input_type,
    is_embedding_model,
    is_vision_model,
)
from .target import refresh_ambient
from .verdict import Kind, Question, Source, Verdict

__all__ = [
    "ConfigurationError",
    "InvalidModelNameError",
    "InvalidQuestionError",
    "InvalidRevisionError",
    "InvalidTokenError",
    "InvalidVariantError",
    "Kind",
    "Question",
    "LocalModelNotFoundError",
    "Source",
    "Verdict",
    "VisionCache",
    "VisionCacheError",
    "default_cache",
    "detect_audio_type",
    "detect_audio_type_checked",
    "is_audio_input_type",
    "is_embedding_model",
    "is_vision_model",
    "refresh_ambient",
]

__version__: str  # the installed distribution's version, read on first access by __getattr__ below

if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise accept any attribute name

    def __getattr__(name: str) -> str:
        """``__version__``, read lazily from package metadata (PEP 562)."""
        if name == "__version__":
            from importlib.metadata import PackageNotFoundError, version

            try:
                found = version("vision_cache")
            except PackageNotFoundError:  # imported from a source tree that was never installed
                found = "0+unknown"
            globals()["__version__"] = found
            return found
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
