"""vision_cache: a persistent, shared cache of "is this model a vision-language model?" verdicts.

    from vision_cache import VisionCache, Verdict, is_vision_model

    is_vision_model("Qwen/Qwen2-VL-2B-Instruct")          # True, detected once, then from the store
    VisionCache().lookup("meta-llama/Llama-3.2-1B")      # Verdict(kind=not_vision, source=store, ...)

Importing this package imports neither huggingface_hub nor transformers: a cache hit never needs them.
"""

from .cache import VisionCache
from .errors import (
    ConfigurationError,
    InvalidModelNameError,
    InvalidRevisionError,
    InvalidTokenError,
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

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "InvalidModelNameError",
    "InvalidRevisionError",
    "InvalidTokenError",
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
