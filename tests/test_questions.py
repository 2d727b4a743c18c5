"""Studio's other per-model questions on the same store: audio type and embedding.

Genuine tokenizer files and model-card tags (tests/data/tokenizers, tests/data/model_info) are
served by the loopback Hub and read by the real huggingface_hub client. Where our answer differs
from Studio's on purpose, the manifest records Studio's answer and tests/test_audio_rules.py says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import VLM, config_bytes

import vision_cache
from vision_cache import Kind, Question, Source

DATA = Path(__file__).parent / "data"
TOKENIZERS = json.loads((DATA / "tokenizers" / "manifest.json").read_text())["fixtures"]
CARDS = sorted((DATA / "model_info").glob("*.json"))
CARDS = [json.loads(p.read_text()) for p in CARDS if not p.name.endswith(".modules.json")]


def _publish_tokenizer_fixture(hub, entry: dict, repo_id: str) -> str:
    folder = DATA / "tokenizers" / entry["dir"]
    files = {name: (folder / name).read_bytes() for name in entry["files"]}
    files.setdefault("README.md", b"# card\n")
    return hub.add_repo(repo_id, files)


@pytest.mark.parametrize("entry", TOKENIZERS, ids=[e["dir"] for e in TOKENIZERS])
def test_each_genuine_tokenizer_gets_its_audio_type(hub, make_cache, entry):
    repo = "fixtures/" + entry["dir"].replace("__", "-")  # each fixture (incl. two whisper-base revisions) its own repo
    _publish_tokenizer_fixture(hub, entry, repo)
    cache = make_cache()
    verdict = cache.lookup(repo, question="audio_type")
    assert verdict.question is Question.AUDIO_TYPE and verdict.answer == entry["expected_audio_type"], verdict
    assert verdict.kind is (Kind.POSITIVE if entry["expected_audio_type"] else Kind.NEGATIVE)
    assert cache.detect_audio_type_checked(repo) == (entry["expected_audio_type"], True)


@pytest.mark.parametrize("card", CARDS, ids=[c["repo_id"] for c in CARDS])
def test_each_genuine_model_card_gets_its_embedding_answer(hub, make_cache, card):
    hub.add_repo(card["repo_id"], {"config.json": b"{}", "README.md": b"# card\n"},
                 info={"tags": card["tags"], "pipeline_tag": card["pipeline_tag"],
                       "library_name": card["library_name"]})
    cache = make_cache()
    assert cache.is_embedding_model(card["repo_id"]) is card["expected_embedding"]
    assert cache.lookup(card["repo_id"], question="embedding").source is Source.STORE


def test_one_cold_vision_read_answers_embedding_too_and_audio_needs_only_the_tokenizer(hub, make_cache):
    entry = next(e for e in TOKENIZERS if e["dir"] == "openai__whisper-base")
    folder = DATA / "tokenizers" / entry["dir"]
    hub.add_repo("openai/whisper-base", {name: (folder / name).read_bytes() for name in entry["files"]},
                 info={"tags": ["transformers", "automatic-speech-recognition"],
                       "pipeline_tag": "automatic-speech-recognition"})
    cache = make_cache()
    assert cache.is_vision_model("openai/whisper-base") is False
    hub.reset_counts()
    assert cache.is_embedding_model("openai/whisper-base") is False  # answered by the cold vision read
    assert hub.count() == 0, hub.requests
    assert cache.detect_audio_type("openai/whisper-base") == "whisper"
    # No model_info (the fresh alias names the commit and lists its files), no request for an absent
    # file; config.json is already in the HF cache: only the tokenizer files were fetched.
    paths = [request[1] for request in hub.requests]
    assert not any("/api/models/" in p for p in paths), paths
    assert hub.count(path_contains="config.json", method="GET") <= 1  # tokenizer_config.json
    assert all(name in entry["files"] for name in ("tokenizer_config.json", "added_tokens.json"))
    hub.reset_counts()
    for question in ("vision", "audio_type", "embedding"):
        assert cache.lookup("openai/whisper-base", question=question).source is Source.STORE
    assert hub.count() == 0


def test_questions_are_separate_entries_purged_together(hub, make_cache):
    hub.add_repo(VLM, {"config.json": config_bytes(VLM)})
    cache = make_cache()
    cache.lookup(VLM)
    cache.lookup(VLM, question="audio_type")
    questions = sorted(e.verdict.question.value for e in cache.entries(VLM))
    assert questions == ["audio_type", "embedding", "vision"]
    assert cache.purge(VLM) == 4  # three answers and the alias
    assert cache.entries(VLM) == []


def test_a_transient_failure_is_not_definitive_and_the_next_call_tries_again(hub, make_cache):
    entry = next(e for e in TOKENIZERS if e["dir"] == "fixie-ai__ultravox-v0_6-llama-3_1-8b")
    _publish_tokenizer_fixture(hub, entry, "fixie-ai/ultravox")
    hub.set_fault("fixie-ai/ultravox", 503)
    cache = make_cache(hub_timeout=5)
    assert cache.detect_audio_type_checked("fixie-ai/ultravox") == (None, False)
    hub.set_fault("fixie-ai/ultravox", None)
    assert cache.detect_audio_type_checked("fixie-ai/ultravox") == ("audio_vlm", True)


def test_local_folders_answer_every_question(make_cache, tmp_path):
    entry = next(e for e in TOKENIZERS if e["dir"] == "openai__whisper-base")
    folder = tmp_path / "whisper-checkpoint"
    folder.mkdir()
    for name in entry["files"]:
        (folder / name).write_bytes((DATA / "tokenizers" / entry["dir"] / name).read_bytes())
    embedder = tmp_path / "embedder"
    embedder.mkdir()
    (embedder / "modules.json").write_bytes((DATA / "model_info" / "BAAI__bge-large-zh-v1.5.modules.json").read_bytes())
    (embedder / "config.json").write_text('{"model_type": "bert", "architectures": ["BertModel"]}')
    cache = make_cache()
    assert cache.detect_audio_type(str(folder)) == "whisper"
    assert cache.is_embedding_model(str(folder)) is False
    assert cache.is_embedding_model(str(embedder)) is True
    assert cache.detect_audio_type_checked(str(embedder)) == (None, True)
    (embedder / "modules.json").unlink()
    assert cache.is_embedding_model(str(embedder)) is False  # the deciding file changed: judged again


def test_the_drop_ins_have_studios_signatures_and_never_raise(hub, monkeypatch, tmp_path):
    import inspect

    import vision_cache.studio as studio

    monkeypatch.setenv("VISION_CACHE_DIR", str(tmp_path / "store"))
    monkeypatch.setattr(studio, "_default", None)
    expected = {
        "detect_audio_type": ["model_name", "hf_token", "local_files_only", "revision"],
        "detect_audio_type_checked": ["model_name", "hf_token", "local_files_only", "revision"],
        "is_embedding_model": ["model_name", "hf_token"],
        "is_audio_input_type": ["audio_type"],
    }
    for name, parameters in expected.items():
        assert list(inspect.signature(getattr(vision_cache, name)).parameters) == parameters
    for odd in ("", None, 42, " x/y", "a/b/c/d", "C:\\x"):
        assert vision_cache.detect_audio_type(odd) is None
        assert vision_cache.is_embedding_model(odd) is False
        assert isinstance(vision_cache.detect_audio_type_checked(odd), tuple)
    assert vision_cache.detect_audio_type_checked("") == (None, True)  # Studio's early answer
    assert [vision_cache.is_audio_input_type(t) for t in ("whisper", "audio_vlm", "snac", None)] == [
        True, True, False, False]


def test_offline_embedding_reads_modules_json_from_the_hf_cache(hub, make_cache):
    from huggingface_hub import hf_hub_download

    modules = (DATA / "model_info" / "BAAI__bge-large-zh-v1.5.modules.json").read_bytes()
    hub.add_repo("BAAI/bge-small", {"config.json": b"{}", "modules.json": modules})
    hf_hub_download("BAAI/bge-small", "modules.json", token=False)  # into this session's HF cache
    cache = make_cache()
    hub.reset_counts()
    verdict = cache.lookup("BAAI/bge-small", question="embedding", local_files_only=True,
                           hf_token=None)
    assert hub.count() == 0
    assert (verdict.answer, verdict.source) == (True, Source.STALE)


def test_warm_start_answers_every_question_from_the_snapshots_own_files(hub, make_cache):
    """No request: vision from config.json, the audio type from the tokenizer files, embedding from
    modules.json; a question whose deciding file the snapshot lacks is left to a later lookup."""
    from huggingface_hub import constants, hf_hub_download

    entry = next(e for e in TOKENIZERS if e["dir"] == "openai__whisper-base")
    folder = DATA / "tokenizers" / entry["dir"]
    modules = (DATA / "model_info" / "BAAI__bge-large-zh-v1.5.modules.json").read_bytes()
    hub.add_repo("warm/whisper", {name: (folder / name).read_bytes() for name in entry["files"]})
    hub.add_repo("warm/embedder", {"config.json": b'{"model_type": "bert", "architectures": ["BertModel"]}',
                                   "modules.json": modules})
    for name in entry["files"]:
        hf_hub_download("warm/whisper", name, token=False)
    hf_hub_download("warm/embedder", "config.json", token=False)
    hf_hub_download("warm/embedder", "modules.json", token=False)
    cache = make_cache()
    hub.reset_counts()
    cache.warm_start(hf_cache_dir=constants.HF_HUB_CACHE)
    assert hub.count() == 0
    learnt = {(e.verdict.subject, e.verdict.question.value): e.verdict.answer
              for e in cache.entries() if e.scope == "hf-cache"}
    assert learnt[("warm/whisper", "vision")] is False and learnt[("warm/whisper", "audio_type")] == "whisper"
    assert learnt[("warm/embedder", "embedding")] is True and ("warm/embedder", "audio_type") not in learnt
    assert ("warm/whisper", "embedding") not in learnt  # no modules.json in that snapshot: no answer
