"""The rules that read a ``config.json`` and say whether it describes a vision-language model.

A VLM takes images (or video frames) and generates text. The rules are a table of signals tried
in order; the first that matches decides, and its description becomes the verdict's evidence.
When none matches, :func:`judge_config` returns None (inconclusive), and the caller may ask
transformers' ``AutoConfig`` before concluding ``not_vision``.

Bump :data:`RULES_VERSION` whenever a change could turn a ``not_vision`` into ``vision``: stored
negatives are re-checked when it changes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from ..verdict import Kind
from .registry import Registry
from .rules_version import RULES_VERSION  # noqa: F401 - bump it there (a hit reads it without these rules)

# --- vocabulary ---------------------------------------------------------------------------------

# Config keys that carry an image encoder or image-token wiring.
VISION_KEYS = (
    "vision_config",  # HF-format VLMs: LLaVA, Qwen2-VL, Gemma 3, Idefics3, Mllama, PaliGemma, InternVL...
    "vision_tower_config",  # some remote-code VLMs
    "img_processor",  # Phi-3-vision / Phi-3.5-vision (remote code)
    "image_token_index",  # LLaVA family, PaliGemma, Pixtral
    "image_token_id",  # Qwen2-VL, Idefics3, SmolVLM
    "projector_config",  # remote-code VLMs with a separate projector block
    "mm_vision_tower",  # original-format LLaVA (liuhaotian/llava-*)
    "visual",  # Qwen-VL (Qwen/Qwen-VL-Chat, remote code)
    "vision_encoder",  # several remote-code VLMs
    "vit_config",  # Ovis, CogVLM-style remote code
    "visual_encoder",  # remote-code VLMs
    "vision_encoder_config",  # Salesforce xgen-mm / BLIP-3 (remote code)
)
# Sub-configs that may themselves hold the vision keys (omni models, nested thinkers).
NESTED_CONFIGS = ("thinker_config", "llm_config", "language_config", "multimodal_config")
# auto_map entries under which a remote-code repo registers a model that turns images into text
# (Salesforce xgen-mm: "AutoModelForVision2Seq": "modeling_xgenmm.XGenMMModelForConditionalGeneration").
VISION_AUTO_CLASSES = ("AutoModelForVision2Seq", "AutoModelForImageTextToText")
# auto_map entries of text generators. A bare `...Model` architecture whose auto_map maps one of these
# still generates text: GLM-4V / ChatGLM name "ChatGLMModel" and map AutoModelForCausalLM to their head.
TEXT_GENERATING_AUTO_CLASSES = ("AutoModelForCausalLM", *VISION_AUTO_CLASSES, "AutoModelForSeq2SeqLM")
# MiniCPM-V (remote code) keeps its image wiring as flat top-level keys: one of these together with
# one of IMAGE_GEOMETRY_KEYS, on a text generator, is an image pipeline.
FLAT_IMAGE_KEYS = ("query_num", "slice_mode", "mm_use_im_start_end")
IMAGE_GEOMETRY_KEYS = ("image_size", "patch_size")

# Architecture names of heads that generate text.
GENERATES_TEXT = re.compile(
    r"(ForConditionalGeneration|ForCausalLM|LMHeadModel|ForVision2Seq|ForImageTextToText|ForMultimodalLM"
    r"|ForSeq2SeqLM|Chat|ChatModel|VLModel|ForVisionText2Text)$"
)
# Architecture names of heads that do not (encoders, classifiers, detectors...).
NO_TEXT_HEAD = re.compile(
    r"(For(Image|Video|Audio|Sequence|Token)Classification|ForObjectDetection|For\w*Segmentation"
    r"|ForDepthEstimation|ForZeroShot\w+|ForMaskedImageModeling|ForImageTextRetrieval|ForKeypoint\w+"
    r"|Backbone|ForMaskedLM|ForQuestionAnswering|ForPreTraining|ForCTC|ForSpeechToText\w*)$"
)
# Image/text encoders: they carry a vision_config but generate no text.
IMAGE_ENCODER_TYPES = frozenset({
    "clip", "siglip", "siglip2", "chinese_clip", "align", "altclip", "owlvit", "owlv2", "x_clip",
    "clipseg", "groupvit", "flava", "blip_2_qformer", "metaclip_2", "vit", "dinov2", "dinov3_vit",
})
# Remote-code VLMs that no transformers registry knows (their model_type is their own).
REMOTE_CODE_VLM_TYPES = frozenset({
    "internvl_chat",  # OpenGVLab/InternVL2, InternVL2.5, InternVL3
    "minicpmv",  # openbmb/MiniCPM-V-2_6, MiniCPM-o
    "cogvlm2",  # THUDM/cogvlm2-llama3-chat-19B (also in Studio's curated list)
    # Native in recent transformers, listed (as Studio does) for the older ones this package allows:
    "gemma4",  # Gemma 4 (its text-only checkpoints are gemma4_text)
    "kimi_k25",  # moonshotai/Kimi-K2.5
    "deepseek_vl_v2",  # deepseek-ai/deepseek-vl2
    "multi_modality",  # deepseek-ai/Janus (remote-code format)
    "molmo",  # allenai/Molmo-7B-D
    "cogvlm",  # THUDM/cogvlm-chat
    "cogagent",  # THUDM/cogagent
    "llava_llama",  # original-format LLaVA-1.5 (liuhaotian/llava-v1.5-*)
    "llava_mistral",  # original-format LLaVA-1.6 Mistral
    "llava_qwen",  # lmms-lab/llava-onevision (original format)
    "phi3_v",  # microsoft/Phi-3-vision, Phi-3.5-vision
    "phi4mm",  # microsoft/Phi-4-multimodal-instruct (remote code)
    "ovis",  # AIDC-AI/Ovis
    "kimi_vl",  # moonshotai/Kimi-VL
    "florence2",  # microsoft/Florence-2 (remote-code format)
    "mplug_owl2",  # MAGAer13/mplug-owl2
    "aria",  # rhymes-ai/Aria (remote-code format)
    "h2ovl_chat",  # h2oai/h2ovl-mississippi
    "nvlm_d",  # nvidia/NVLM-D
    "valley",  # bytedance Valley
    "moondream1", "moondream",  # vikhyatk/moondream2
    "eagle_chat", "eagle_2_5_vl",  # NVIDIA Eagle 2 / 2.5
    "keye_vl",  # Kwai-Keye
    "skywork_chat",  # Skywork-R1V
    "intern_s1",  # internlm/Intern-S1
    "step3_vl", "step3vl",  # stepfun-ai/step3
    "dots_ocr",  # rednote-hilab/dots.ocr
    "deepseek_vl",  # deepseek-ai/deepseek-vl (remote format)
    "internlmxcomposer2",  # internlm/internlm-xcomposer2-7b, -4khd
    "bunny-llama", "bunny-phi", "bunny-qwen",  # BAAI/Bunny
})
# Remote-code VLM classes, named in `architectures` or `auto_map` (whatever model_type a fine-tune sets).
REMOTE_CODE_VLM_CLASSES = frozenset({
    "InternLMXComposer2ForCausalLM", "InternLMXComposerForCausalLM",  # internlm/internlm-xcomposer2*
    "InternVLChatModel",  # OpenGVLab/InternVL
    "MiniCPMV", "MiniCPMO",  # openbmb/MiniCPM-V, MiniCPM-o
    "DeepseekVLV2ForCausalLM", "MultiModalityCausalLM",  # deepseek-ai/deepseek-vl2, Janus
    "MolmoForCausalLM",  # allenai/Molmo
    "CogVLMForCausalLM", "CogAgentForCausalLM",  # THUDM/cogvlm, cogagent
    "Phi3VForCausalLM", "Phi4MMForCausalLM",  # microsoft/Phi-3-vision, Phi-4-multimodal
    "LlavaLlamaForCausalLM", "LlavaMistralForCausalLM", "LlavaQwenForCausalLM",  # original-format LLaVA
    "BunnyLlamaForCausalLM", "BunnyPhiForCausalLM", "BunnyQwenForCausalLM",  # BAAI/Bunny
    "HfMoondream", "Moondream",  # vikhyatk/moondream2
    "Ovis", "KimiVLForConditionalGeneration", "Florence2ForConditionalGeneration",
    "MPLUGOwl2LlamaForCausalLM", "H2OVLChatModel", "NVLM_D", "Eagle2ChatModel",
})
# Class-name fragments that only VLM classes carry, in any letter case (remote code spells them freely):
VLM_CLASS_FRAGMENT = re.compile(
    r"VL(?=[A-Z0-9_]|$)"  # Qwen2VL..., InternVLChat..., Qwen2_5_VL..., DeepseekVLV2...
    r"|(?i:vl)(?=For|Model|Chat|[0-9_]|$)"  # the same in lower case: Qwen2vlForCausalLM, Internvl_chat
    r"|(?i:llava|xcomposer|minicpmv|phi3v|vision2seq|imagetexttotext|visiontext2text)"  # LLaVA, InternLM-XC...
    r"|(?i:[a-z][0-9]+(?:\.[0-9]+)?v)(?=For|Model|Moe|Chat|_|$)"  # "<family><version>v": Llama3v, Phi3V, Glm4v
)
# Not here on purpose: "qwen" (Qwen-VL) and "chatglm" (GLM-4V) name text-only checkpoints too; their
# VLMs are recognised by their `visual` / `vision_config` block (the key rule).
# Audio-in, text-out models without image input (the registry adds its own; these it may not know).
AUDIO_ONLY_TYPES = frozenset({
    "whisper", "qwen2_audio", "qwen2_audio_encoder", "voxtral", "voxtral_realtime", "csm", "moshi",
    "musicgen", "musicgen_melody", "seamless_m4t", "seamless_m4t_v2", "speech_to_text", "speecht5",
    "granite_speech", "kyutai_speech_to_text", "dia", "wav2vec2", "hubert", "wavlm", "mimi",
    "qwen3_asr", "glmasr", "ultravox", "kimi_audio", "step_audio",
})


# --- the signal table ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConfigView:
    """Convenient, defensive access to a parsed config.json (which may be hostile)."""

    raw: dict[str, Any]
    registry_loader: Callable[[], Registry]  # the transformers registry costs ~1 s to import: only if needed

    @functools.cached_property
    def registry(self) -> Registry:
        return self.registry_loader()

    @property
    def model_type(self) -> str:
        value = self.raw.get("model_type")
        return value if isinstance(value, str) else ""

    @property
    def architectures(self) -> list[str]:
        value = self.raw.get("architectures")
        return [a for a in value if isinstance(a, str)] if isinstance(value, list) else []

    @property
    def auto_map_targets(self) -> list[str]:
        value = self.raw.get("auto_map")
        return list(value) if isinstance(value, dict) else []

    @property
    def class_names(self) -> list[str]:
        """Architecture classes plus auto_map targets ("modeling_x.ClassName" -> "ClassName")."""
        value = self.raw.get("auto_map")
        mapped = [v for v in value.values() if isinstance(v, str)] if isinstance(value, dict) else []
        return self.architectures + [name.rsplit(".", 1)[-1] for name in mapped]

    def vision_key(self) -> str | None:
        """The first vision key present (non-empty), at the top level or in a nested sub-config."""
        for where, config in self._configs():
            for key in VISION_KEYS:
                if config.get(key) not in (None, {}, [], ""):
                    return key if where == "" else f"{where}.{key}"
        embd = self.raw.get("embd_layer")  # Phi-4-multimodal: {"image_embd_layer": {...}}
        if isinstance(embd, dict) and embd.get("image_embd_layer"):
            return "embd_layer.image_embd_layer"
        return None

    def _configs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "", self.raw
        for name in NESTED_CONFIGS:
            nested = self.raw.get(name)
            if isinstance(nested, dict):
                yield name, nested

    def maps_auto_class(self, names: tuple[str, ...]) -> str | None:
        """The first auto_map entry among ``names``, if any."""
        return next((t for t in self.auto_map_targets if t in names), None)

    def generates_text(self) -> bool:
        archs = self.architectures
        if any(GENERATES_TEXT.search(a) for a in archs):
            return True
        if self.maps_auto_class(TEXT_GENERATING_AUTO_CLASSES):
            return True
        return not archs  # no head named: assume a generator (old remote-code configs omit it)

    def only_non_text_heads(self) -> bool:
        archs = self.architectures
        # A bare `...Model` (the trunk, no head) generates nothing, unless auto_map hands the text
        # auto classes a generating head for it (ChatGLMModel -> ChatGLMForConditionalGeneration).
        bare_trunks = all(a.endswith("Model") for a in archs) and not self.maps_auto_class(
            TEXT_GENERATING_AUTO_CLASSES)
        return bool(archs) and not any(GENERATES_TEXT.search(a) for a in archs) and (
            all(NO_TEXT_HEAD.search(a) for a in archs) or self.model_type in IMAGE_ENCODER_TYPES
            or bare_trunks
        )


@dataclasses.dataclass(frozen=True)
class Signal:
    """One row of the table: when ``test`` returns a description, the verdict is ``kind``.

    ``serves`` names the model families the row exists for (documentation, and a test keeps it filled).
    """

    kind: Kind
    test: Callable[[ConfigView], str | None]
    serves: str


def _text_only_checkpoint(c: ConfigView) -> str | None:
    # Gemma3ForCausalLM (gemma3_text), Llama4ForCausalLM (llama4_text): a multimodal family's text-only weights
    archs = c.architectures
    if c.model_type.endswith("_text") and archs and all(a.endswith("ForCausalLM") for a in archs) \
            and c.vision_key() is None:
        return f"text-only checkpoint: model_type {c.model_type}, {archs[0]}"
    return None


def _encoder_without_text_head(c: ConfigView) -> str | None:
    # CLIP, SigLIP, ViT, DETR...: they see images but generate no text
    if c.model_type in IMAGE_ENCODER_TYPES and not c.generates_text():
        return f"image model without a text-generating head: model_type {c.model_type}"
    if c.only_non_text_heads():
        return f"no text-generating head: {', '.join(c.architectures)}"
    return None


def _audio_only(c: ConfigView) -> str | None:
    # Whisper, Qwen2-Audio, Voxtral, CSM: audio in, text out, no image input. The registry's other
    # audio-capable types are left to transformers (step 2): some also take images (phi4_multimodal).
    if c.vision_key() is None and c.model_type in AUDIO_ONLY_TYPES:
        return f"audio-only model: model_type {c.model_type}"
    return None


def _vision_key_on_generator(c: ConfigView) -> str | None:
    # HF-format VLMs and most remote-code VLMs: an image encoder block in the config
    key = c.vision_key()
    if key is not None and c.generates_text():
        return f"{key} present on a text-generating model"
    return None


def _empty_vision_config_on_generator(c: ConfigView) -> str | None:
    # `"vision_config": {}`: the vision tower is declared and left to the config class's defaults.
    # Studio counts any `vision_config` key (its tests model DeepSeek-OCR and Kimi K2.5 this way);
    # `null` is not a declaration of a tower, so it is no signal here.
    for where, config in c._configs():
        if config.get("vision_config") == {} and c.generates_text():
            key = "vision_config" if where == "" else f"{where}.vision_config"
            return f"{key} declared (empty) on a text-generating model"
    return None


def _vision_auto_class(c: ConfigView) -> str | None:
    # remote code registered under a vision-to-text auto class (Salesforce xgen-mm / BLIP-3)
    target = c.maps_auto_class(VISION_AUTO_CLASSES)
    return f"auto_map registers {target}" if target else None


def _flat_image_keys_on_generator(c: ConfigView) -> str | None:
    # MiniCPM-V forks that renamed model_type and class: query_num / slice_mode + image_size / patch_size
    wiring = next((k for k in FLAT_IMAGE_KEYS if c.raw.get(k) is not None), None)
    geometry = next((k for k in IMAGE_GEOMETRY_KEYS if c.raw.get(k) is not None), None)
    if wiring and geometry and c.generates_text():
        return f"image keys {wiring} and {geometry} on a text-generating model"
    return None


def _registry_type(c: ConfigView) -> str | None:
    # VLM model types that the installed transformers knows
    if c.model_type and c.model_type in c.registry.vision_types:
        return f"model_type {c.model_type} in the transformers registry (image-text-to-text)"
    return None


def _registry_class(c: ConfigView) -> str | None:
    # fine-tunes that renamed model_type but kept a VLM architecture class
    for arch in c.architectures:
        if arch in c.registry.vision_classes:
            return f"architecture {arch} in the transformers registry (image-text-to-text)"
    return None


def _curated_remote_code(c: ConfigView) -> str | None:
    # remote-code VLMs unknown to any registry (InternVL, MiniCPM-V, DeepSeek-VL2, Molmo, CogVLM...)
    if c.model_type in REMOTE_CODE_VLM_TYPES:
        return f"model_type {c.model_type} is a known remote-code VLM"
    return None


def _curated_remote_code_class(c: ConfigView) -> str | None:
    # remote-code VLMs whose model_type is generic or missing (InternLM-XComposer2 says "internlm", CogVLM none)
    for name in c.class_names:
        if name in REMOTE_CODE_VLM_CLASSES:
            return f"class {name} is a known remote-code VLM"
    return None


def _vlm_class_name(c: ConfigView) -> str | None:
    # fine-tunes and forks of VLM families with renamed types: the class name still says VL / Llava / ...
    if not c.generates_text():
        return None
    for name in c.class_names:
        if VLM_CLASS_FRAGMENT.search(name):
            return f"class {name} names a vision-language model"
    return None


def _registry_text_only(c: ConfigView) -> str | None:
    # Llama, Qwen3, Mistral...: a type transformers files only under text generation (no vision signal above)
    if c.model_type and c.vision_key() is None and c.model_type in c.registry.text_types:
        return f"model_type {c.model_type} generates text from text only (transformers registry)"
    return None


SIGNALS: tuple[Signal, ...] = (
    Signal(Kind.NOT_VISION, _text_only_checkpoint, "Gemma 3 / Llama 4 text-only checkpoints"),
    Signal(Kind.NOT_VISION, _encoder_without_text_head, "CLIP, SigLIP, ViT, DETR, BERT, vision towers"),
    Signal(Kind.NOT_VISION, _audio_only, "Whisper, Qwen2-Audio, Voxtral, CSM"),
    Signal(Kind.VISION, _vision_key_on_generator,
           "LLaVA, Qwen-VL, Gemma 3, PaliGemma, Pixtral, GLM-4V, CogVLM, Phi-3-vision, xgen-mm"),
    Signal(Kind.VISION, _empty_vision_config_on_generator, "remote code leaving its tower to defaults"),
    Signal(Kind.VISION, _vision_auto_class, "Salesforce xgen-mm / BLIP-3"),
    Signal(Kind.VISION, _flat_image_keys_on_generator, "MiniCPM-V forks"),
    Signal(Kind.VISION, _curated_remote_code, "InternVL, MiniCPM-V, DeepSeek-VL2, Molmo, CogVLM2..."),
    Signal(Kind.VISION, _curated_remote_code_class, "InternLM-XComposer2, CogVLM, Moondream..."),
    Signal(Kind.VISION, _registry_type, "VLMs of the installed transformers"),  # first row needing its tables
    Signal(Kind.VISION, _registry_class, "fine-tunes of those VLMs with a renamed model_type"),
    Signal(Kind.VISION, _vlm_class_name, "forks of VL / LLaVA / MiniCPM-V / Phi-3-V classes, any case"),
    Signal(Kind.NOT_VISION, _registry_text_only, "Llama, Qwen, Mistral, Gemma 2...: text only"),  # last
)


def judge_config(config: object, registry: Registry | Callable[[], Registry]) -> tuple[Kind, str] | None:
    """Apply :data:`SIGNALS` to a parsed config.json: ``(kind, evidence)``, or None if inconclusive."""
    if not isinstance(config, dict):
        return Kind.NOT_VISION, "config.json is not a JSON object"
    view = ConfigView(config, registry if callable(registry) else (lambda: registry))
    for signal in SIGNALS:
        evidence = signal.test(view)
        if evidence is not None:
            return signal.kind, evidence
    return None
