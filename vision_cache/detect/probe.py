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

import importlib
import json
import sys

_VISION_TABLES = ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES")
_MULTIMODAL_TABLE = "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES"
_TEXT_GENERATION_TABLES = ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES",
                           _MULTIMODAL_TABLE) + _VISION_TABLES
_VISION_WORDS = ("vision", "visual", "image", "vit")


def probe(config):
    import transformers

    modeling = importlib.import_module("transformers.models.auto.modeling_auto")
    configuration = importlib.import_module("transformers.models.auto.configuration_auto")
    model_type = config.get("model_type") if isinstance(config, dict) else None
    archs = config.get("architectures") if isinstance(config, dict) else None
    archs = [a for a in archs if isinstance(a, str)] if isinstance(archs, list) else []
    vision_types, vision_classes = set(), set()
    for name in _VISION_TABLES:
        for key, classes in getattr(modeling, name, {}).items():
            vision_types.add(key)
            vision_classes.update([classes] if isinstance(classes, str) else classes)
    audio_types = set(getattr(modeling, _MULTIMODAL_TABLE, {})) - vision_types
    text_generators = set()
    for name in _TEXT_GENERATION_TABLES:
        text_generators.update(getattr(modeling, name, {}))
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
