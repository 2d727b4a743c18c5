"""Baseline: the raw-``config.json`` rule Unsloth Studio's ``is_vision_model`` applies today.

What it reproduces (facts only; this is our own code, written from the research summary in
``/work/notes/studio_contract.md`` section 2, not copied from Studio):

    source: unslothai/unsloth @ 015bdef0d94a241bcd94eec7a405b1700632180d,
            studio/backend/utils/models/model_config.py lines 573-737
            (``_CURATED_REMOTE_VLM_TYPES``, ``_build_detection_sets``, ``_raw_config_has_vision_config``)

The decision, on a parsed ``config.json`` dict:

1. "explicit vision" = any of the top-level keys ``vision_config``, ``img_processor``,
   ``image_token_index``, ``projector_config`` is present (``key in config``; the value is not
   inspected, nested sub-configs are not looked at).
2. A ``model_type`` in the audio-only set (keys of the transformers CTC, SPEECH_SEQ_2_SEQ,
   AUDIO_CLASSIFICATION, TEXT_TO_WAVEFORM, TEXT_TO_SPECTROGRAM and AUDIO_XVECTOR name tables,
   plus ``csm`` and ``whisper``) is not vision unless it is explicit vision.
3. Otherwise vision if explicit vision, or a string entry of ``architectures`` is one of the
   class names (values) of the IMAGE_TEXT_TO_TEXT / VISION_2_SEQ tables or ends with
   ``ForVisionText2Text``, or ``model_type`` is a key of those tables or in Studio's curated list.

If the transformers tables cannot be read, Studio falls back to the curated list, no class
names and ``{"csm", "whisper"}``; so does this module.

Only the raw-config path is reproduced: no subprocess sidecar, no ``AutoConfig`` fallback, no
GGUF branch, no caching. Where Studio's raw reader would fail (a config that is not a JSON
object) Studio would go on to ``AutoConfig``; here the answer is False, which is what
``is_vision_model`` returns for an undecided result.
"""

from __future__ import annotations

import functools
import importlib

EXPLICIT_VISION_KEYS = ("vision_config", "img_processor", "image_token_index", "projector_config")
VLM_ARCH_SUFFIXES = ("ForVisionText2Text",)
# Studio's curated list of remote-code VLM types (model_config.py:575-589 at the commit above).
CURATED_REMOTE_VLM_TYPES = frozenset({
    "phi3_v", "phi4mm", "llava", "llava_next", "llava_onevision", "internvl_chat", "cogvlm2", "minicpmv",
    "gemma4", "deepseek_vl_v2", "kimi_k25",
})
FALLBACK_AUDIO_MODEL_TYPES = frozenset({"csm", "whisper"})

VLM_TABLES = ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES")
AUDIO_TABLES = (
    "MODEL_FOR_CTC_MAPPING_NAMES",
    "MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES",
    "MODEL_FOR_AUDIO_CLASSIFICATION_MAPPING_NAMES",
    "MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES",
    "MODEL_FOR_TEXT_TO_SPECTROGRAM_MAPPING_NAMES",
    "MODEL_FOR_AUDIO_XVECTOR_MAPPING_NAMES",
)


@functools.lru_cache(maxsize=1)
def detection_sets() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(VLM model types, VLM architecture class names, audio-only model types)."""
    try:
        # import_module, not `from ... import`: without torch the latter yields a dummy object.
        module = importlib.import_module("transformers.models.auto.modeling_auto")
        vlm_types: set[str] = set(CURATED_REMOTE_VLM_TYPES)
        vlm_classes: set[str] = set()
        for name in VLM_TABLES:
            for model_type, classes in getattr(module, name, {}).items():
                vlm_types.add(model_type)
                vlm_classes.update([classes] if isinstance(classes, str) else classes)
        audio_types: set[str] = set(FALLBACK_AUDIO_MODEL_TYPES)
        for name in AUDIO_TABLES:
            audio_types.update(getattr(module, name, {}))
        return frozenset(vlm_types), frozenset(vlm_classes), frozenset(audio_types)
    except Exception:
        return CURATED_REMOTE_VLM_TYPES, frozenset(), FALLBACK_AUDIO_MODEL_TYPES


def studio_is_vision(config: dict) -> bool:
    """Studio's current raw-config verdict for a parsed ``config.json``."""
    if not isinstance(config, dict):
        return False
    vlm_types, vlm_classes, audio_types = detection_sets()
    model_type = config.get("model_type")
    if not isinstance(model_type, str):  # a hostile value must not raise (unhashable); it matches nothing
        model_type = None
    explicit_vision = any(key in config for key in EXPLICIT_VISION_KEYS)
    if model_type in audio_types and not explicit_vision:
        return False
    if explicit_vision:
        return True
    architectures = config.get("architectures") or []
    if not isinstance(architectures, list):
        architectures = []
    for arch in architectures:
        if isinstance(arch, str) and (arch in vlm_classes or arch.endswith(VLM_ARCH_SUFFIXES)):
            return True
    return model_type in vlm_types
