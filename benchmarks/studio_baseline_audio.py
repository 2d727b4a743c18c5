"""Baseline: Unsloth Studio's current audio-type and embedding rules, as reference functions.

Our own code, written from reading (facts only, nothing copied):

    source: unslothai/unsloth @ 015bdef0d94a241bcd94eec7a405b1700632180d,
            studio/backend/utils/models/model_config.py
            (``_AUDIO_TOKEN_PATTERNS``, ``_AUDIO_TOKEN_MARKERS``, ``_detect_audio_from_tokenizer``,
            ``is_audio_input_type``, ``is_embedding_model``)

Audio, what Studio does with each of ``tokenizer_config.json`` then ``LLM/tokenizer_config.json``:

1. Local read: if the raw text holds none of the markers ``<|AUDIO|>``, ``<|startoftranscript|>``,
   ``<|bicodec_``, ``<|audio_start|>``, ``<custom_token_``, ``<audio_soft_token>``, ``<|audio|>``,
   the file is skipped unparsed (it counts as read if it ends with ``}``).
2. Otherwise it is parsed; only ``added_tokens_decoder`` is looked at (each value's ``content``).
   Empty or missing: no answer from that file. ``config.json``, ``added_tokens.json``,
   ``special_tokens_map.json`` and top-level ``*_token`` keys are never read.
3. The first pattern that matches wins, in this order: csm (``<|AUDIO|>`` and ``<|audio_eos|>``),
   whisper (``<|startoftranscript|>``), bicodec (a token starting ``<|bicodec_``), dac
   (``<|audio_start|>``, ``<|audio_end|>``, ``<|text_start|>``, ``<|text_end|>``), snac (more than
   10,000 tokens starting ``<custom_token_``), audio_vlm (``<audio_soft_token>`` or ``<|audio|>``).
4. The first file that answers decides; otherwise None.

Only the decision on file texts is reproduced: no local-cache walk, no Hub request, no caching,
no definitive flag. Studio's local read catches a per-file error (a non-dict decoder entry makes
``v.get`` fail); its Hub path does not, and the exception escapes ``detect_audio_type``.
:func:`studio_audio_type` follows the local read; ``strict=True`` re-raises like the Hub path.

Embedding (``is_embedding_model``): Hub ``model_info`` says embedding if ``"sentence-transformers"``
or ``"feature-extraction"`` is in its tags or its ``pipeline_tag`` is ``sentence-similarity`` or
``feature-extraction``; a local folder (or, offline, the HF-cache snapshot) if ``modules.json`` is a
file in it.

Run ``python benchmarks/studio_baseline_audio.py`` for ours vs. this baseline on the fixtures in
``tests/data/tokenizers`` and ``tests/data/model_info``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STUDIO_SOURCE = "unslothai/unsloth@015bdef0d94a241bcd94eec7a405b1700632180d"
STUDIO_TOKENIZER_PATHS = ("tokenizer_config.json", "LLM/tokenizer_config.json")
STUDIO_MARKERS = (
    "<|AUDIO|>", "<|startoftranscript|>", "<|bicodec_", "<|audio_start|>", "<custom_token_",
    "<audio_soft_token>", "<|audio|>",
)


def _more_than(tokens: list[str], prefix: str, threshold: int) -> bool:
    count = 0
    for token in tokens:
        if token.startswith(prefix):
            count += 1
            if count > threshold:
                return True
    return False


# Studio's order: the first that matches wins.
STUDIO_PATTERNS = (
    ("csm", lambda t: "<|AUDIO|>" in t and "<|audio_eos|>" in t),
    ("whisper", lambda t: "<|startoftranscript|>" in t),
    ("bicodec", lambda t: any(x.startswith("<|bicodec_") for x in t)),
    ("dac", lambda t: all(x in t for x in ("<|audio_start|>", "<|audio_end|>", "<|text_start|>", "<|text_end|>"))),
    ("snac", lambda t: _more_than(t, "<custom_token_", 10000)),
    ("audio_vlm", lambda t: "<audio_soft_token>" in t or "<|audio|>" in t),
)


def studio_check_tokens(tok_config: dict) -> str | None:
    """Studio's per-file check; raises (AttributeError) on the inputs Studio's raises on."""
    added = tok_config.get("added_tokens_decoder", {})
    if not added:
        return None
    contents = [value.get("content", "") for value in added.values()]
    for audio_type, matches in STUDIO_PATTERNS:
        if matches(contents):
            return audio_type
    return None


def studio_audio_type(tokenizer_texts: dict[str, str], strict: bool = False) -> str | None:
    """Studio's answer from the texts of its two tokenizer_config paths (other files are ignored)."""
    for path in STUDIO_TOKENIZER_PATHS:
        raw = tokenizer_texts.get(path)
        if not isinstance(raw, str):
            continue
        if raw.startswith("\ufeff"):  # Studio reads with utf-8-sig
            raw = raw[1:]
        if not any(marker in raw for marker in STUDIO_MARKERS):
            continue
        try:
            result = studio_check_tokens(json.loads(raw))
        except Exception:
            if strict:
                raise
            continue
        if result:
            return result
    return None


def studio_is_audio_input_type(audio_type: str | None) -> bool:
    return audio_type in ("whisper", "audio_vlm")


def studio_is_embedding_info(tags, pipeline_tag) -> bool:
    tag_set = set(tags or [])
    return ("sentence-transformers" in tag_set or "feature-extraction" in tag_set
            or (pipeline_tag or "") in ("sentence-similarity", "feature-extraction"))


def studio_is_embedding_local(folder_names) -> bool:
    return "modules.json" in set(folder_names or [])


# --- ours vs. the baseline on the fixtures -------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
TOKENIZERS = ROOT / "tests" / "data" / "tokenizers"
MODEL_INFO = ROOT / "tests" / "data" / "model_info"


def load_fixture(entry: dict) -> tuple[dict | None, dict[str, str]]:
    """(parsed config.json or None, {tokenizer file name: raw text}) for one manifest entry."""
    folder = TOKENIZERS / entry["dir"]
    config = None
    texts: dict[str, str] = {}
    for name in entry["files"]:
        text = (folder / name).read_text(encoding="utf-8")
        if name == "config.json":
            config = json.loads(text)
        else:
            texts[name] = text
    return config, texts


def audio_rows() -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from vision_cache.detect.audio import judge_audio

    manifest = json.loads((TOKENIZERS / "manifest.json").read_text(encoding="utf-8"))
    rows = []
    for entry in manifest["fixtures"]:
        config, texts = load_fixture(entry)
        ours, evidence = judge_audio(config, texts)
        rows.append({"repo_id": entry["repo_id"], "dir": entry["dir"], "expected": entry["expected_audio_type"],
                     "ours": ours, "studio": studio_audio_type(texts), "recorded_studio": entry["studio_answer"],
                     "evidence": evidence})
    return rows


def embedding_rows() -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from vision_cache.detect.embedding import judge_embedding_info

    rows = []
    for path in sorted(MODEL_INFO.glob("*.json")):
        if path.name.endswith(".modules.json"):
            continue
        info = json.loads(path.read_text(encoding="utf-8"))
        ours, evidence = judge_embedding_info(info["tags"], info["pipeline_tag"], info.get("library_name"))
        rows.append({"repo_id": info["repo_id"], "expected": info["expected_embedding"], "ours": ours,
                     "studio": studio_is_embedding_info(info["tags"], info["pipeline_tag"]), "evidence": evidence})
    return rows


def main() -> int:
    audio = audio_rows()
    print(f"audio type, {len(audio)} fixtures (Studio rule from {STUDIO_SOURCE})")
    print(f"  {'repo':<48} {'expected':<10} {'ours':<10} {'studio':<10}")
    for row in audio:
        name = row["repo_id"] + (" @" + row["dir"].split("__rev-")[-1] if "__rev-" in row["dir"] else "")
        print(f"  {name:<48} {row['expected']!s:<10} {row['ours']!s:<10} {row['studio']!s:<10}")
    ours_ok = sum(r["ours"] == r["expected"] for r in audio)
    studio_ok = sum(r["studio"] == r["expected"] for r in audio)
    print(f"  correct: ours {ours_ok}/{len(audio)}, studio {studio_ok}/{len(audio)}")
    emb = embedding_rows()
    e_ours = sum(r["ours"] == r["expected"] for r in emb)
    e_studio = sum(r["studio"] == r["expected"] for r in emb)
    print(f"embedding, {len(emb)} model_info records: ours {e_ours}/{len(emb)}, studio {e_studio}/{len(emb)}")
    regressions = [r["repo_id"] for r in audio if r["studio"] == r["expected"] != r["ours"]]
    ok = ours_ok == len(audio) and e_ours == len(emb) and not regressions
    print("PASS" if ok else f"FAIL (regressions: {regressions})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
