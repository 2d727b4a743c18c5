"""Ask an installed transformers what it knows about a config: run in-process or in a sidecar.

This file is self-contained on purpose (standard library + transformers only): a sidecar runs it
as ``<other python> -I probe.py`` with the config.json on standard input, so the other
interpreter imports nothing of vision_cache and receives no token (it never touches the network:
the config was already read at the resolved commit). It prints one JSON object:

    {"transformers": "4.57.1", "known_type": true, "vision_type": false,
     "vision_class": null, "vision_subconfig": "vision_config", "audio_type": false,
     "text_generator": true}

``trust_remote_code`` is never involved: only transformers' own tables and config classes are read.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

# The tables of transformers' model registry (modeling_auto) that decide our questions. This file is
# the one place that names them; vision_cache.detect.registry reads them through read_tables().
VISION_TABLES = (  # take images, generate text (4.x called the main one VISION_2_SEQ)
    "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
    "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES",
)
MULTIMODAL_TABLE = "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES"  # generate text from other inputs (images or audio)
TEXT_TABLES = ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES")
_VISION_WORDS = ("vision", "visual", "image", "vit")


def read_tables() -> tuple[set[str], set[str], set[str], set[str]]:
    """``(vision_types, vision_classes, audio_types, text_generators)`` from the installed transformers.

    ``audio_types``: multimodal text generators that take no images; ``text_generators``: every type
    that generates text (text-only, multimodal or vision). torch is not needed: importing the module
    itself (not ``from ... import``) gives the real tables even where transformers 5 hands out dummies.
    """
    modeling = importlib.import_module("transformers.models.auto.modeling_auto")
    vision_types: set[str] = set()
    vision_classes: set[str] = set()
    for name in VISION_TABLES:
        for key, classes in getattr(modeling, name, {}).items():
            vision_types.add(key)
            vision_classes.update([classes] if isinstance(classes, str) else classes)
    multimodal = set(getattr(modeling, MULTIMODAL_TABLE, {}))
    text_generators = set(multimodal) | vision_types
    for name in TEXT_TABLES:
        text_generators.update(getattr(modeling, name, {}))
    return vision_types, vision_classes, multimodal - vision_types, text_generators


def probe(config: Any) -> dict[str, Any]:
    import transformers

    vision_types, vision_classes, audio_types, text_generators = read_tables()
    configuration = importlib.import_module("transformers.models.auto.configuration_auto")
    model_type = config.get("model_type") if isinstance(config, dict) else None
    archs = config.get("architectures") if isinstance(config, dict) else None
    archs = [a for a in archs if isinstance(a, str)] if isinstance(archs, list) else []
    known = isinstance(model_type, str) and model_type in configuration.CONFIG_MAPPING_NAMES
    subconfig = None
    if known:
        try:
            config_class = configuration.CONFIG_MAPPING[model_type]
            for key in getattr(config_class, "sub_configs", {}) or {}:
                if any(word in key.lower() for word in _VISION_WORDS):
                    subconfig = key
                    break
        except Exception:  # a config class that fails to import says nothing either way
            subconfig = None
    return {
        "transformers": transformers.__version__,
        "known_type": known,
        "vision_type": isinstance(model_type, str) and model_type in vision_types,
        "vision_class": next((a for a in archs if a in vision_classes), None),
        "vision_subconfig": subconfig,
        "audio_type": isinstance(model_type, str) and model_type in audio_types,
        "text_generator": isinstance(model_type, str) and model_type in text_generators,
    }


if __name__ == "__main__":
    import logging
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.disable(logging.WARNING)
    print(json.dumps(probe(json.loads(sys.stdin.buffer.read().decode("utf-8")))))
