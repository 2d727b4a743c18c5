"""The raw-config signal table: one test per rule added for issue 9, and the negatives they must keep.

Most tests give the rules a small fixed registry (an "old transformers" that knows only a few types),
so that each verdict comes from the row under test and not from the installed transformers' tables.
Each positive below is inconclusive (None) or ``not_vision`` without its row.
"""

from __future__ import annotations

import pytest

from vision_cache.detect import rules
from vision_cache.detect.detector import judge_config_bytes
from vision_cache.detect.registry import Registry
from vision_cache.verdict import Kind

OLD_REGISTRY = Registry(
    vision_types=frozenset({"llava", "qwen2_vl"}),
    vision_classes=frozenset({"LlavaForConditionalGeneration", "Qwen2VLForConditionalGeneration"}),
    audio_types=frozenset(),
    text_types=frozenset({"llama", "qwen2", "gemma3_text"}),
)


def judge(config: dict):
    return rules.judge_config(config, OLD_REGISTRY)


def assert_vision(config: dict, evidence_has: str) -> None:
    judged = judge(config)
    assert judged is not None and judged[0] is Kind.VISION, judged
    assert evidence_has in judged[1], judged


def assert_not_vision(config: dict) -> None:
    judged = judge(config)
    assert judged is None or judged[0] is Kind.NOT_VISION, judged


def test_rules_version_was_bumped_for_the_new_vision_signals():
    assert rules.RULES_VERSION >= 4


def test_every_row_names_the_families_it_serves():
    assert all(signal.serves.strip() for signal in rules.SIGNALS)


# --- an empty vision_config on a text generator ------------------------------------------------------


def test_empty_vision_config_on_a_generator_is_vision():
    assert_vision({"model_type": "deepseek_ocr_fork", "architectures": ["DeepseekOCRForCausalLM"],
                   "vision_config": {}}, "vision_config declared (empty)")


def test_empty_vision_config_in_a_nested_config_is_vision():
    assert_vision({"model_type": "omni_fork", "architectures": ["OmniForConditionalGeneration"],
                   "thinker_config": {"vision_config": {}}}, "thinker_config.vision_config")


@pytest.mark.parametrize("config", [
    {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vision_config": None},  # null: no tower
    {"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"], "vision_config": {}},  # text-only
    {"model_type": "clip", "architectures": ["CLIPModel"], "vision_config": {}},  # encoder, no text head
    {"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"], "vision_config": {}},
], ids=["null", "gemma3_text", "clip", "whisper"])
def test_empty_vision_config_does_not_override_the_negatives(config):
    assert_not_vision(config)


# --- curated types taken from Studio's list ----------------------------------------------------------


@pytest.mark.parametrize("model_type", ["cogvlm2", "gemma4", "kimi_k25"])
def test_curated_types_from_studios_list(model_type):
    # a fine-tune whose class is unknown: only the model_type says VLM (the old registry knows none of these)
    assert_vision({"model_type": model_type, "architectures": ["FineTunedForCausalLM"]},
                  f"model_type {model_type} is a known remote-code VLM")


# --- auto_map registering a vision-to-text auto class ------------------------------------------------


@pytest.mark.parametrize("auto_class", ["AutoModelForVision2Seq", "AutoModelForImageTextToText"])
def test_auto_map_vision_to_text_class_is_vision(auto_class):
    assert_vision({"model_type": "xgenmm", "architectures": ["XGenMMModelForConditionalGeneration"],
                   "auto_map": {"AutoConfig": "configuration_xgenmm.XGenMMConfig",
                                auto_class: "modeling_xgenmm.XGenMMModelForConditionalGeneration"}},
                  f"auto_map registers {auto_class}")


def test_auto_map_text_classes_alone_are_no_vision_signal():
    assert_not_vision({"model_type": "aquila3", "architectures": ["AquilaForCausalLM"],
                       "auto_map": {"AutoModelForCausalLM": "modeling_aquila.AquilaForCausalLM"}})


# --- vision_encoder_config -------------------------------------------------------------------------


def test_vision_encoder_config_is_vision():
    assert_vision({"model_type": "xgenmm", "architectures": ["XGenMMModelForConditionalGeneration"],
                   "vision_encoder_config": {"model_type": "xgenmm_vision_encoder"}},
                  "vision_encoder_config present")


# --- a bare ...Model architecture whose auto_map maps a text generator (GLM-4V) ---------------------

GLM4V_SHAPE = {
    "model_type": "chatglm",
    "architectures": ["ChatGLMModel"],
    "auto_map": {"AutoConfig": "configuration_chatglm.ChatGLMConfig",
                 "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration",
                 "AutoModelForCausalLM": "modeling_chatglm.ChatGLMForConditionalGeneration"},
}


def test_chatglm_model_with_a_causal_lm_auto_map_and_a_vision_config_is_vision():
    assert_vision({**GLM4V_SHAPE, "vision_config": {"image_size": 1120, "patch_size": 14}},
                  "vision_config present on a text-generating model")


def test_text_only_chatglm_is_still_not_vision():
    # the trunk rule no longer decides, the fallback does: chatglm is unknown to transformers, no signal
    assert judge(GLM4V_SHAPE) is None
    assert judge_config_bytes(repr_json(GLM4V_SHAPE)).kind is Kind.NOT_VISION


@pytest.mark.parametrize("config", [
    {"model_type": "pixtral", "architectures": ["PixtralVisionModel"], "image_size": 1024, "patch_size": 16},
    {"model_type": "qwen2_vl", "architectures": ["Qwen2VisionTransformerPretrainedModel"],
     "vision_config": {"depth": 32}},
    {"model_type": "siglip", "architectures": ["SiglipModel"], "vision_config": {"image_size": 224},
     "auto_map": {"AutoModel": "modeling_siglip.SiglipModel"}},
], ids=["pixtral-tower", "qwen2vl-tower", "siglip"])
def test_bare_trunks_without_a_text_auto_class_stay_without_a_text_head(config):
    judged = judge(config)
    assert judged is not None and judged[0] is Kind.NOT_VISION, judged


# --- MiniCPM-V-style flat image keys -----------------------------------------------------------------


@pytest.mark.parametrize("wiring", ["query_num", "slice_mode", "mm_use_im_start_end"])
def test_flat_image_keys_with_image_geometry_on_a_generator_are_vision(wiring):
    assert_vision({"model_type": "minicpmv_fork", "architectures": ["VisualCPMForCausalLM"],
                   wiring: 64, "image_size": 448, "patch_size": 14}, f"image keys {wiring} and image_size")


@pytest.mark.parametrize("config", [
    {"model_type": "my_llm", "architectures": ["MyForCausalLM"], "query_num": 64},  # no image geometry
    {"model_type": "my_llm", "architectures": ["MyForCausalLM"], "image_size": 448},  # no image wiring
    {"model_type": "vit", "architectures": ["ViTForImageClassification"], "image_size": 224, "patch_size": 16,
     "query_num": 1},  # an image classifier generates no text
], ids=["wiring-only", "geometry-only", "classifier"])
def test_flat_image_keys_alone_are_not_enough(config):
    assert_not_vision(config)


# --- class-name fragments in any letter case ---------------------------------------------------------


@pytest.mark.parametrize("arch", ["Llama3vForCausalLM", "Phi3vForCausalLM", "Qwen2vlForCausalLM",
                                  "TinyLLAVAForCausalLM", "MiniCpmVForCausalLM", "InternvlChatModel"])
def test_vlm_class_fragments_match_in_any_case(arch):
    assert_vision({"model_type": "renamed_fork", "architectures": [arch],
                   "auto_map": {"AutoModelForCausalLM": f"modeling_fork.{arch}"}}, f"class {arch} names")


def test_a_bare_llama3v_class_mapped_as_a_causal_lm_is_vision():
    assert_vision({"model_type": "llama3v", "architectures": ["Llama3v"],
                   "auto_map": {"AutoModelForCausalLM": "modeling_llama3v.Llama3v"}}, "class Llama3v names")


@pytest.mark.parametrize("arch", ["DeepseekV3ForCausalLM", "Rwkv5ForCausalLM", "RWKV7ForCausalLM",
                                  "EvolForCausalLM", "Starcoder2ForCausalLM", "MiniCPMForCausalLM",
                                  "Gemma3nForCausalLM", "NovelForCausalLM"])
def test_text_class_names_do_not_match_the_fragments(arch):
    assert rules.VLM_CLASS_FRAGMENT.search(arch) is None
    assert_not_vision({"model_type": "renamed_fork", "architectures": [arch]})


# --- negatives the new rows must not disturb (real transformers registry, full detector) -------------


@pytest.mark.parametrize("config", [
    {"model_type": "clip", "architectures": ["CLIPModel"], "vision_config": {}, "text_config": {}},
    {"model_type": "siglip", "architectures": ["SiglipModel"], "vision_config": {"image_size": 384}},
    {"model_type": "vit", "architectures": ["ViTModel"], "image_size": 224, "patch_size": 16},
    {"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"]},
    {"model_type": "qwen2_audio", "architectures": ["Qwen2AudioForConditionalGeneration"],
     "audio_config": {"model_type": "qwen2_audio_encoder"}},
    {"model_type": "voxtral", "architectures": ["VoxtralForConditionalGeneration"],
     "audio_config": {"model_type": "voxtral_encoder"}},
    {"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]},
], ids=["clip", "siglip", "vit", "whisper", "qwen2_audio", "voxtral", "gemma3_text"])
def test_negatives_stay_not_vision(config):
    detection = judge_config_bytes(repr_json(config))
    assert detection.kind is Kind.NOT_VISION, detection.evidence


def repr_json(config: dict) -> bytes:
    import json

    return json.dumps(config).encode("utf-8")
