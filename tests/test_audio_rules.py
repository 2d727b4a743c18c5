"""The audio-type rules (vision_cache/detect/audio.py) on genuine fixtures, against Studio's rule.

Fixtures are files as published (tests/data/tokenizers/manifest.json says where from). Where no
published file could be found, a test builds the smallest token list that shows the rule and
says so; those inputs are *stated*, not presented as a model's files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from vision_cache.detect import audio
from vision_cache.detect.audio import (
    AUDIO_FILES,
    AUDIO_TYPES,
    RULES_VERSION,
    is_audio_input_type,
    judge_audio,
    judge_audio_detail,
    mentions_audio,
)

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import studio_baseline_audio as studio  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "tokenizers"
MANIFEST = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
FIXTURES = {entry["dir"]: entry for entry in MANIFEST["fixtures"]}


def load(name: str) -> tuple[dict | None, dict[str, str]]:
    return studio.load_fixture(FIXTURES[name])


def decoder(*tokens: str, start: int = 1000) -> str:
    """A tokenizer_config.json text whose added_tokens_decoder holds ``tokens`` (stated input)."""
    return json.dumps({"added_tokens_decoder": {str(start + i): {"content": t, "special": True}
                                                for i, t in enumerate(tokens)}})


# --- every fixture gets its expected answer, and Studio's recorded answer is Studio's ------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_expected_answer(name):
    config, texts = load(name)
    audio_type, evidence = judge_audio(config, texts)
    assert audio_type == FIXTURES[name]["expected_audio_type"], evidence
    assert evidence


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_studio_answer_is_what_studios_rule_says(name):
    _, texts = load(name)
    assert studio.studio_audio_type(texts) == FIXTURES[name]["studio_answer"]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_files_exist_and_are_listed_with_sources(name):
    entry = FIXTURES[name]
    folder = DATA / entry["dir"]
    held = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert held == sorted(entry["files"])
    assert set(entry["files"]) <= set(entry["source"])
    assert entry["why"] and entry["provenance"]


def test_fixtures_judge_definitively():
    for name in FIXTURES:
        config, texts = load(name)
        assert judge_audio_detail(config, texts).definitive, name


def test_ours_beats_studio_on_the_fixtures_with_no_regression():
    rows = studio.audio_rows()
    ours = sum(r["ours"] == r["expected"] for r in rows)
    theirs = sum(r["studio"] == r["expected"] for r in rows)
    assert ours == len(rows) and theirs < ours
    assert [r for r in rows if r["studio"] == r["expected"] != r["ours"]] == []
    assert studio.main() == 0


# --- deliberate differences from Studio, each with Studio's answer next to ours ---------------------


def test_old_whisper_layout_is_whisper_though_studio_says_none():
    """Older Whisper checkpoints keep special tokens in added_tokens.json, with no
    added_tokens_decoder; Studio reads only added_tokens_decoder and answers None."""
    config, texts = load("openai__whisper-base__rev-013fe3b")
    assert "added_tokens_decoder" not in json.loads(texts["tokenizer_config.json"])
    assert studio.studio_audio_type(texts) is None
    audio_type, evidence = judge_audio(config, texts)
    assert audio_type == "whisper" and "added_tokens.json" in evidence
    # Either signal alone is enough: the token file without the config, the config without it.
    assert judge_audio(None, texts)[0] == "whisper"
    assert judge_audio(config, {})[0] == "whisper"


def test_gemma4_top_level_audio_token_is_audio_vlm_though_studio_says_none():
    """Gemma 4 declares audio_token at the top level of tokenizer_config.json and has no
    added_tokens_decoder, so Studio answers None for every Gemma 4 checkpoint."""
    _, texts = load("google__gemma-4-31B-it")
    parsed = json.loads(texts["tokenizer_config.json"])
    assert parsed["audio_token"] == "<|audio|>" and "added_tokens_decoder" not in parsed
    assert studio.studio_audio_type(texts) is None
    assert judge_audio(None, texts) == ("audio_vlm", "audio_vlm: <|audio|> in tokenizer_config.json")


def test_gemma4_tokenizer_with_a_config_without_audio_encoder_is_not_audio():
    """The same tokenizer ships with the 31B checkpoint, which has no audio tower. A config that
    shows no audio encoder vetoes the token-only signal. (Stated config: Gemma 4's config keys
    audio_config; its null value is what a checkpoint without an audio tower carries.)"""
    _, texts = load("google__gemma-4-31B-it")
    config = {"model_type": "gemma4", "architectures": ["Gemma4ForConditionalGeneration"], "audio_config": None}
    audio_type, evidence = judge_audio(config, texts)
    assert audio_type is None and "no audio encoder" in evidence
    config["audio_config"] = {"model_type": "gemma4_audio"}  # an E2B/E4B-style audio tower
    assert judge_audio(config, texts)[0] == "audio_vlm"


def test_qwen2_audio_tokens_are_not_csm_without_sesame_config():
    """Qwen2-Audio carries <|AUDIO|> and <|audio_eos|>, the pair Studio checks first and calls
    csm. With Qwen2-Audio's genuine config (an audio_config, model_type qwen2_audio) the model
    takes audio and generates text: audio_vlm. (Stated tokens: the published tokenizer file
    was not found; the three are Qwen2-Audio's audio markers, ids from its config.)"""
    config, _ = load("Qwen__Qwen2-Audio-7B-Instruct")
    assert config["audio_token_index"] == 151646
    texts = {"tokenizer_config.json": decoder("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>", start=151646)}
    assert studio.studio_audio_type(texts) == "csm"
    audio_type, evidence = judge_audio(config, texts)
    assert audio_type == "audio_vlm" and "audio_config" in evidence
    assert is_audio_input_type(audio_type) and not is_audio_input_type("csm")


def test_qwen_audio_markers_without_any_config_are_audio_vlm_not_csm():
    """Without a config, <|audio_bos|> next to the pair marks Qwen's audio-input layout."""
    texts = {"tokenizer_config.json": decoder("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")}
    assert studio.studio_audio_type(texts) == "csm"
    assert judge_audio(None, texts)[0] == "audio_vlm"


def test_qwen2_5_omni_thinker_audio_config_is_audio_vlm():
    """Qwen2.5-Omni nests its audio encoder under thinker_config and has the same token pair, so
    Studio calls it csm. (Stated input: the nesting and model_type as transformers defines them.)"""
    config = {"model_type": "qwen2_5_omni", "architectures": ["Qwen2_5OmniModel"],
              "thinker_config": {"model_type": "qwen2_5_omni_thinker", "audio_config": {"d_model": 1280}}}
    texts = {"tokenizer_config.json": decoder("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")}
    assert studio.studio_audio_type(texts) == "csm"
    audio_type, evidence = judge_audio(config, texts)
    assert audio_type == "audio_vlm" and "thinker_config.audio_config" in evidence


def test_csm_needs_sesame_evidence():
    """csm needs CSM's own config (model_type csm / CsmForConditionalGeneration). With it, the
    answer is csm even without a tokenizer file, which Studio cannot read as anything."""
    pair = {"tokenizer_config.json": decoder("<|AUDIO|>", "<|audio_eos|>", start=128002)}
    for config in ({"model_type": "csm"}, {"architectures": ["CsmForConditionalGeneration"]}):
        assert judge_audio(config, pair)[0] == "csm"
        assert judge_audio(config, {})[0] == "csm"
    assert studio.studio_audio_type({}) is None
    # Without a config the pair alone still says csm (Studio-compatible): nothing contradicts it.
    assert judge_audio(None, pair)[0] == "csm"
    # A readable config of another model vetoes it: a Llama config with the pair is not Sesame.
    assert judge_audio({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}, pair)[0] is None


def test_qwen3_asr_audio_span_is_audio_vlm_though_studio_says_none():
    """Qwen3-ASR has <|audio_start|>/<|audio_end|> but not the text markers dac needs; Studio
    answers None. (Stated input: Qwen3-ASR's token names and its thinker_config.audio_config.)"""
    texts = {"tokenizer_config.json": decoder("<|im_start|>", "<|im_end|>", "<|audio_start|>", "<|audio_end|>",
                                              "<|audio_pad|>", start=151644)}
    assert studio.studio_audio_type(texts) is None
    assert judge_audio(None, texts)[0] == "audio_vlm"
    config = {"model_type": "qwen3_asr", "thinker_config": {"audio_config": {"encoder_layers": 24}}}
    assert judge_audio(config, texts)[0] == "audio_vlm"
    assert judge_audio(config, {})[0] == "audio_vlm"


def test_audio_encoder_in_config_alone_is_audio_vlm():
    """An audio_config in config.json is the model's own statement that it takes audio."""
    config, _ = load("Qwen__Qwen2-Audio-7B-Instruct")
    assert judge_audio(config, {}) == ("audio_vlm", "audio_vlm: config.json has audio_config")
    assert judge_audio({"model_type": "gemma3n"}, {})[0] == "audio_vlm"


# --- where we keep Studio's answer: order and the codec types --------------------------------------


def test_types_and_order_are_studios():
    assert AUDIO_TYPES == ("snac", "csm", "bicodec", "dac", "whisper", "audio_vlm")
    assert [name for name, _ in studio.STUDIO_PATTERNS] == ["csm", "whisper", "bicodec", "dac", "snac", "audio_vlm"]
    assert isinstance(RULES_VERSION, str) and RULES_VERSION


@pytest.mark.parametrize(("tokens", "expected"), [
    (["<|bicodec_global_0|>", "<|bicodec_semantic_0|>", "<|start_global_token|>"], "bicodec"),
    (["<|audio_start|>", "<|audio_end|>", "<|text_start|>", "<|text_end|>"], "dac"),
    (["<|startoftranscript|>", "<|en|>", "<|transcribe|>"], "whisper"),
    (["<bos>", "<audio_soft_token>", "<image_soft_token>"], "audio_vlm"),
    (["<bos>", "<eos>", "<pad>"], None),
])
def test_stated_token_lists_agree_with_studio(tokens, expected):
    """Studio's own cases (no published file held for these types): same answer as Studio."""
    texts = {"tokenizer_config.json": decoder(*tokens)}
    assert studio.studio_audio_type(texts) == expected
    assert judge_audio(None, texts)[0] == expected


def test_snac_codebook_beats_a_stray_audio_token_and_needs_more_than_10000():
    """Orpheus ships 28,683 <custom_token_N> codes and a stray <|audio|> (Studio's comment)."""
    codes = [f"<custom_token_{i}>" for i in range(28683)]
    texts = {"tokenizer_config.json": decoder("<|audio|>", *codes, start=128000)}
    assert studio.studio_audio_type(texts) == "snac"
    assert judge_audio({"model_type": "llama"}, texts)[0] == "snac"
    assert judge_audio(None, {"tokenizer_config.json": decoder(*codes[:10000])})[0] is None
    assert judge_audio(None, {"tokenizer_config.json": decoder(*codes[:10001])})[0] == "snac"


def test_codec_types_are_not_vetoed_by_a_plain_llm_config():
    """TTS checkpoints are plain LLMs in config.json (Orpheus is a Llama, Spark-TTS a Qwen2)."""
    llama = {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    assert judge_audio(llama, {"LLM/tokenizer_config.json": decoder("<|bicodec_semantic_7|>")})[0] == "bicodec"
    assert judge_audio(llama, {"tokenizer_config.json": decoder(*audio.DAC_TOKENS)})[0] == "dac"


def test_llm_subfolder_is_read_like_studio():
    texts = {"tokenizer_config.json": decoder("<s>"), "LLM/tokenizer_config.json": decoder("<|bicodec_global_1|>")}
    assert studio.studio_audio_type(texts) == judge_audio(None, texts)[0] == "bicodec"


def test_is_audio_input_type_is_studios():
    for value in (*AUDIO_TYPES, None, "", "WHISPER", 3):
        assert is_audio_input_type(value) == studio.studio_is_audio_input_type(value)
    assert audio.is_tts_type("whisper") and not audio.is_tts_type("audio_vlm") and not audio.is_tts_type(None)


# --- the skip-parse pre-check ------------------------------------------------------------------------


def test_mentions_audio_lets_every_rule_through():
    samples = {
        "csm": ["<|AUDIO|>", "<|audio_eos|>"], "whisper": ["<|startoftranscript|>"],
        "bicodec": ["<|bicodec_semantic_0|>"], "dac": list(audio.DAC_TOKENS),
        "snac": [f"<custom_token_{i}>" for i in range(10001)], "gemma3n": ["<audio_soft_token>"],
        "gemma4": ["<|audio|>"], "qwen": ["<|audio_bos|>"], "qwen3": ["<|audio_start|>", "<|audio_end|>"],
    }
    for name, tokens in samples.items():
        assert mentions_audio(decoder(*tokens)), name
        assert mentions_audio(json.dumps({"x": tokens})), name
    # Studio's markers are all covered by ours.
    assert all(any(m in s or s in m for s in audio.AUDIO_MARKERS) for m in studio.STUDIO_MARKERS)


@pytest.mark.parametrize("name", ["tiiuae__falcon-40b", "deepseek-ai__DeepSeek-R1-Distill-Qwen-32B"])
def test_mentions_audio_settles_text_fixtures_without_a_parse(monkeypatch, name):
    """The saving, pinned: a text model's tokenizer files are read but never handed to json.loads."""
    _, texts = load(name)
    assert not any(mentions_audio(t) for t in texts.values())
    calls = []
    real = json.loads
    monkeypatch.setattr(audio.json, "loads", lambda s, *a, **k: (calls.append(len(s)), real(s, *a, **k))[1])
    result = judge_audio_detail(None, texts)
    assert result.definitive and result.audio_type is None
    assert calls == []


def test_mentions_audio_does_not_miss_escaped_markers():
    escaped = json.dumps({"added_tokens_decoder": {"5": {"content": "<|startoftranscript|>"}}}).replace("<", "\\u003c")
    assert json.loads(escaped)["added_tokens_decoder"]["5"]["content"] == "<|startoftranscript|>"
    assert mentions_audio(escaped)
    assert judge_audio(None, {"tokenizer_config.json": escaped})[0] == "whisper"


def test_mentions_audio_on_non_text():
    assert mentions_audio(b"<|audio|>") and not mentions_audio(None) and not mentions_audio(12)


def test_audio_files_order():
    assert AUDIO_FILES[0] == "config.json"
    assert AUDIO_FILES[1:3] == ("tokenizer_config.json", "LLM/tokenizer_config.json")
    assert set(AUDIO_FILES) == {"config.json", "tokenizer_config.json", "LLM/tokenizer_config.json",
                                "added_tokens.json", "special_tokens_map.json"}


# --- definitive or not ---------------------------------------------------------------------------------


def test_a_half_written_text_tokenizer_is_unknown_not_negative():
    whole = json.dumps({"added_tokens_decoder": {"0": {"content": "<|plain|>"}}})
    half = judge_audio_detail(None, {"tokenizer_config.json": whole[: len(whole) // 2]})
    assert half.audio_type is None and not half.definitive and "truncated" in half.evidence
    assert judge_audio_detail(None, {"tokenizer_config.json": whole}).definitive


def test_nothing_given_is_unknown():
    result = judge_audio_detail(None, {})
    assert result.audio_type is None and not result.definitive and result.evidence.startswith("unknown")


# --- hostile input never raises -----------------------------------------------------------------------


HOSTILE_TEXTS = [
    "", "{", "[]", "null", "42", '"<|audio|>"', "\ufeff{}", "{" * 100_000 + "}" * 100_000,
    '{"added_tokens_decoder": [1, 2, 3]}', '{"added_tokens_decoder": {"1": "<|audio|>"}}',
    '{"added_tokens_decoder": {"1": {"content": 5}}, "audio_token": {"content": ["<|audio|>"]}}',
    '{"added_tokens_decoder": {"1": null}, "additional_special_tokens": "<|audio|>"}',
    '{"<|startoftranscript|>": "x", "\\ud800": 1}', "\x00<|audio|>\xff", "<|audio|>" * 10_000,
]
HOSTILE_CONFIGS = [None, {}, [], "csm", 3, {"model_type": 5}, {"architectures": "CsmForConditionalGeneration"},
                   {"architectures": [None, 3, {"x": 1}]}, {"audio_config": "yes"}, {"thinker_config": []},
                   {"model_type": "x" * 10_000}]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
@pytest.mark.parametrize("name", ["tokenizer_config.json", "added_tokens.json", "special_tokens_map.json"])
def test_hostile_tokenizer_text_never_raises(text, name):
    result = judge_audio_detail(None, {name: text})
    assert result.audio_type in (*AUDIO_TYPES, None) and isinstance(result.evidence, str)
    assert studio.studio_audio_type({name: text}) in (*AUDIO_TYPES, None)


def test_studio_hub_path_raises_where_we_do_not():
    """Studio's Hub read does not catch a non-dict decoder entry: detect_audio_type raises."""
    text = '{"added_tokens_decoder": {"1": "<|audio|>"}}'
    with pytest.raises(AttributeError):
        studio.studio_audio_type({"tokenizer_config.json": text}, strict=True)
    # We read a bare-string entry as the token itself, and answer.
    assert judge_audio(None, {"tokenizer_config.json": text})[0] == "audio_vlm"


@pytest.mark.parametrize("config", HOSTILE_CONFIGS)
def test_hostile_config_never_raises(config):
    audio_type, evidence = judge_audio(config, {"tokenizer_config.json": decoder("<|audio|>")})
    assert audio_type in (*AUDIO_TYPES, None) and evidence


@pytest.mark.parametrize("texts", [None, [], "tokenizer_config.json", {1: "x"}, {"tokenizer_config.json": None},
                                   {"tokenizer_config.json": b'{"a": "<|audio|>"}'}, {"x.json": 3},
                                   {"tokenizer_config.json": bytearray(b"\xff\xfe")}])
def test_hostile_texts_mapping_never_raises(texts):
    audio_type, evidence = judge_audio(None, texts)
    assert audio_type in (*AUDIO_TYPES, None) and evidence


def test_huge_text_is_skipped_not_parsed(monkeypatch):
    monkeypatch.setattr(audio, "MAX_TEXT_CHARS", 1000)
    result = judge_audio_detail(None, {"tokenizer_config.json": decoder(*[f"<custom_token_{i}>" for i in range(100)])})
    assert result.audio_type is None and "too large" in result.evidence and not result.definitive


def test_an_unexpected_failure_is_unknown_not_a_crash(monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("bug")
    monkeypatch.setattr(audio, "_collect", boom)
    result = judge_audio_detail(None, {"tokenizer_config.json": "{}"})
    assert result.audio_type is None and not result.definitive and "RuntimeError" in result.evidence


def test_bytes_with_bom_are_read():
    text = "\ufeff" + decoder("<|startoftranscript|>")
    assert judge_audio(None, {"tokenizer_config.json": text.encode("utf-8")})[0] == "whisper"
