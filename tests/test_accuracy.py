"""Ours vs. Studio's current raw-config rules on the corpus, and unit tests of that baseline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import accuracy  # noqa: E402
import studio_baseline  # noqa: E402
from studio_baseline import studio_is_vision  # noqa: E402


@pytest.fixture(scope="module")
def summary():
    return accuracy.summarize(accuracy.evaluate())


# --- ours against the baseline, on the corpus ----------------------------------------------------


def test_ours_is_strictly_more_accurate_than_studio(summary):
    ours, studio = summary["ours"], summary["studio"]
    assert ours["total"] == studio["total"] == summary["models"] >= 40
    assert ours["correct"] > studio["correct"], (
        f"ours {ours['correct']}/{ours['total']} vs studio {studio['correct']}/{studio['total']}")


def test_no_model_the_baseline_gets_right_is_wrong_with_ours(summary):
    assert summary["regressions"] == []


def test_recall_and_specificity_not_worse(summary):
    assert summary["ours"]["vlm_recall"] >= summary["studio"]["vlm_recall"]
    assert summary["ours"]["non_vlm_specificity"] >= summary["studio"]["non_vlm_specificity"]


def test_script_exit_status(capsys):
    assert accuracy.main([]) == 0
    assert "PASS" in capsys.readouterr().out


# --- the baseline itself, so it cannot silently become a stub ------------------------------------


def test_baseline_reads_the_transformers_registry():
    vlm_types, vlm_classes, audio_types = studio_baseline.detection_sets()
    assert {"llava", "qwen2_vl", "paligemma"} <= vlm_types
    assert studio_baseline.CURATED_REMOTE_VLM_TYPES <= vlm_types
    assert "LlavaForConditionalGeneration" in vlm_classes
    assert {"whisper", "csm", "wav2vec2"} <= audio_types


@pytest.mark.parametrize("config", [
    {"vision_config": {}},
    {"img_processor": {"name": "clip_vision_model"}},
    {"image_token_index": None},  # presence is enough
    {"projector_config": {}},
    {"model_type": "whisper", "vision_config": {}},  # explicit vision overrides the audio exclusion
    {"architectures": ["LlavaForConditionalGeneration"], "model_type": "my_finetune"},  # registry class
    {"architectures": ["MyForVisionText2Text"]},  # suffix
    {"model_type": "qwen2_vl"},  # registry type
    {"model_type": "internvl_chat", "architectures": ["InternVLChatModel"]},  # curated list
    {"model_type": "cogvlm2"},  # curated list
    {"model_type": "phi4mm"},  # curated list (added to Studio's after the first baseline)
    {"model_type": "clip", "vision_config": {}},  # Studio's known false positive: an encoder with a vision_config
], ids=repr)
def test_baseline_says_vision(config):
    assert studio_is_vision(config) is True


@pytest.mark.parametrize("config", [
    {},
    {"model_type": "whisper"},
    {"model_type": "csm", "architectures": ["CsmForConditionalGeneration"]},
    {"model_type": "wav2vec2", "architectures": ["LlavaForConditionalGeneration"]},  # audio table wins over arch
    {"model_type": "llama", "architectures": ["LlamaForCausalLM"]},
    {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]},  # ForConditionalGeneration is no signal
    {"model_type": "llava_llama", "mm_vision_tower": "openai/clip-vit-large-patch14"},  # not a Studio key
    {"model_type": "foo", "text_config": {"vision_config": {}}},  # nested keys are not inspected
    {"model_type": ["hostile"], "architectures": "LlavaForConditionalGeneration"},  # malformed: no crash
    {"architectures": [42, None]},
], ids=repr)
def test_baseline_says_not_vision(config):
    assert studio_is_vision(config) is False


def test_baseline_rejects_non_objects():
    assert studio_is_vision([{"vision_config": {}}]) is False  # type: ignore[arg-type]
