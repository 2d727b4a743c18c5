"""What the installed transformers knows about vision-language models, read lazily.

Importing the name tables costs about half a second (more on a cold disk), so it happens on the
first miss only, never on a hit. ``importlib.import_module`` is used on purpose: with
transformers 5.x and no torch, ``from transformers.models.auto import modeling_auto`` yields a
dummy object that raises on attribute access, while importing the module itself gives the real
tables. torch is not needed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib

# Registry tables whose models take images and generate text. (4.x called the main one VISION_2_SEQ.)
_VISION_TABLES = (
    "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
    "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES",
)
# Models that generate text from other inputs: those not in the tables above take audio, not images.
_MULTIMODAL_TABLE = "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES"
# Text generators: a type found only here (not in the tables above) reads and writes text.
_TEXT_TABLES = ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES")


@dataclasses.dataclass(frozen=True)
class Registry:
    vision_types: frozenset[str]  # model_type -> takes images, generates text
    vision_classes: frozenset[str]  # architecture class names of those models
    audio_types: frozenset[str]  # multimodal text generators that take audio but not images
    text_types: frozenset[str] = frozenset()  # text-in, text-out generators (no other input)


@functools.lru_cache(maxsize=1)
def transformers_registry() -> Registry:
    """The installed transformers' VLM tables.

    Raises:
        ImportError (or whatever a broken transformers raises): the verdict is then ``unknown`` and
        nothing is stored, rather than a ``not_vision`` judged without the registry.
    """
    module = importlib.import_module("transformers.models.auto.modeling_auto")
    vision_types: set[str] = set()
    vision_classes: set[str] = set()
    for table_name in _VISION_TABLES:
        for model_type, classes in getattr(module, table_name, {}).items():
            vision_types.add(model_type)
            vision_classes.update([classes] if isinstance(classes, str) else classes)
    multimodal = set(getattr(module, _MULTIMODAL_TABLE, {}))
    text_types = set()
    for table_name in _TEXT_TABLES:
        text_types.update(getattr(module, table_name, {}))
    return Registry(frozenset(vision_types), frozenset(vision_classes), frozenset(multimodal - vision_types),
                    frozenset(text_types - multimodal - vision_types))
