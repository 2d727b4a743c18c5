"""Unsloth Studio's ``is_vision_model`` contract, stated in Studio's own terms, through the public functions.

Studio (``studio/backend/utils/models/model_config.py``) defines it; these tests hold both
``vision_cache.is_vision_model`` (module level, the drop-in) and ``VisionCache.is_vision_model``
to it, with real GGUF files written by the ``gguf`` package and the loopback Hub serving genuine
configs through the real ``huggingface_hub`` client.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path

import pytest
from conftest import TEXT_LLM, VLM, publish
from gguf_fixtures import write_projector, write_text_model

import vision_cache
from vision_cache import Kind, Source

STUDIO_SIGNATURE = [("model_name", inspect.Parameter.empty), ("hf_token", None), ("local_files_only", False),
                    ("revision", None), ("gguf_variant", None), ("require_image", True)]


@pytest.fixture
def drop_in(monkeypatch, tmp_path):
    """The module-level drop-in on a fresh default cache in this test's folder."""
    import vision_cache.studio as studio

    monkeypatch.setenv("VISION_CACHE_DIR", str(tmp_path / "default-store"))
    monkeypatch.setenv("VISION_CACHE_MEMORY_TTL", "0")
    monkeypatch.setattr(studio, "_default", None)
    yield vision_cache.is_vision_model
    if studio._default is not None:
        studio._default.close()


# -- the signature -------------------------------------------------------------------------------


def _shape(function) -> list[tuple[str, object]]:
    """Names, order and defaults; every parameter positional-or-keyword, as in Studio."""
    parameters = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters)
    return [(p.name, p.default) for p in parameters]


def test_both_drop_ins_have_studios_whole_signature():
    assert _shape(vision_cache.is_vision_model) == STUDIO_SIGNATURE
    assert _shape(vision_cache.VisionCache.is_vision_model) == STUDIO_SIGNATURE


def test_every_parameter_combination_answers_a_bool(hub, drop_in):
    publish(hub, VLM)
    for kwargs in ({}, {"hf_token": None}, {"local_files_only": False}, {"revision": "main"},
                   {"gguf_variant": "Q4_K_M"}, {"require_image": False},
                   {"gguf_variant": "Q4_K_M", "require_image": False, "revision": None}):
        assert drop_in(VLM, **kwargs) is True, kwargs


# -- never raises --------------------------------------------------------------------------------

ODD_NAMES = ["", " org/x", "org/x ", "org/model/sub", "C:\\models\\x", "acme/vlm/", "-acme/vlm", "a b/c",
             "acme/\u212aelvin", "x" * 5000, "org/\x1bname", "../nowhere/at/all", "~nobody-here/x", None, 42,
             b"org/name", ["org/name"], object()]


@pytest.mark.parametrize("name", ODD_NAMES, ids=lambda n: repr(n)[:30])
def test_odd_names_answer_false_and_never_raise(hub, drop_in, name, caplog):
    with caplog.at_level("WARNING", logger="vision_cache"):
        assert drop_in(name) is False
    assert caplog.records, "a False for bad input comes with a log line"


@pytest.mark.parametrize("kwargs", [{"hf_token": 123}, {"revision": "bad rev"}, {"revision": 7},
                                    {"gguf_variant": "../Q4"}, {"gguf_variant": 5}])
def test_odd_arguments_answer_false_and_never_raise(hub, drop_in, kwargs):
    publish(hub, VLM)
    assert drop_in(VLM, **kwargs) is False


@pytest.mark.parametrize("variable,value", [("VISION_CACHE_NEGATIVE_TTL", "a week"),
                                            ("VISION_CACHE_HUB_TIMEOUT", "abc"),
                                            ("VISION_CACHE_SIDECAR_PYTHON", "/no/such/python")])
def test_bad_environment_values_answer_false_and_never_raise(hub, drop_in, monkeypatch, variable, value, caplog):
    publish(hub, VLM)
    monkeypatch.setenv(variable, value)
    with caplog.at_level("ERROR", logger="vision_cache"):
        assert drop_in(VLM) is False
    assert variable in caplog.text


# -- transient failures --------------------------------------------------------------------------


def test_transient_failure_then_healthy_the_second_call_is_true(hub, drop_in):
    publish(hub, VLM)
    hub.set_fault(VLM, 503)
    assert drop_in(VLM) is False  # Studio: False now, not remembered
    hub.set_fault(VLM, None)
    assert drop_in(VLM) is True  # the very next call asks again


def test_one_process_forced_offline_does_not_make_another_answer_false(hub, tmp_path):
    """A failure seen by a process forced offline is never shared as an answer with an online one."""
    publish(hub, VLM)
    offline = vision_cache.VisionCache(directory=tmp_path / "shared", memory_ttl=0)
    online = vision_cache.VisionCache(directory=tmp_path / "shared", memory_ttl=0)
    assert offline.is_vision_model(VLM, local_files_only=True) is False  # nothing local yet
    assert online.is_vision_model(VLM) is True


# -- offline -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [" 1 ", "\ttrue\n", " on ", "YES"])
def test_whitespace_and_case_in_offline_variables_mean_offline(hub, drop_in, monkeypatch, value):
    publish(hub, VLM)
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    hub.reset_counts()
    assert drop_in(VLM) is False  # never resolved here, and offline: not a single request
    assert hub.count() == 0


def test_transformers_offline_counts_too(hub, drop_in, monkeypatch):
    publish(hub, VLM)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    hub.reset_counts()
    assert drop_in(VLM) is False
    assert hub.count() == 0


def test_a_forced_offline_window_in_process_never_goes_online_and_never_poisons_the_online_answer(
        hub, drop_in, monkeypatch):
    """Studio forces offline for a while by flipping huggingface_hub.constants.HF_HUB_OFFLINE."""
    from huggingface_hub import constants

    publish(hub, VLM)
    hub.reset_counts()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert drop_in(VLM) is False
    assert hub.count() == 0
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    assert drop_in(VLM) is True


# -- casing --------------------------------------------------------------------------------------


def test_any_casing_answers_from_one_entry_and_reports_the_hubs_casing(hub, tmp_path):
    publish(hub, VLM)
    cache = vision_cache.VisionCache(directory=tmp_path / "store", memory_ttl=0)
    first = cache.lookup(VLM.upper())
    assert (first.kind, first.subject) == (Kind.VISION, VLM)  # the Hub's own spelling
    hub.reset_counts()
    for spelling in (VLM.lower(), VLM, VLM.swapcase()):
        again = cache.lookup(spelling)
        assert (again.source, again.subject) == (Source.STORE, VLM)
    assert hub.count() == 0


def test_offline_any_casing_finds_the_model_the_hf_cache_holds(hub, tmp_path):
    """The HF cache keeps a repo under the casing of its first download: offline, another casing
    still finds it (Studio resolves casing against the cache), and reports the cache's spelling."""
    from huggingface_hub import hf_hub_download

    publish(hub, VLM)
    hf_hub_download(VLM, "config.json", token=False)  # into this session's HF cache, as the Hub spells it
    cache = vision_cache.VisionCache(directory=tmp_path / "store", memory_ttl=0)
    hub.reset_counts()
    verdict = cache.lookup(VLM.upper(), local_files_only=True)
    assert (verdict.kind, verdict.source, verdict.subject) == (Kind.VISION, Source.STALE, VLM)
    assert hub.count() == 0


# -- local GGUF layouts --------------------------------------------------------------------------


def _quant_tree(root: Path, projector: dict | None) -> Path:
    """A llama.cpp-style repo snapshot: per-quant subfolders, a split quant, the projector at the top."""
    (root / "Q4_K_M").mkdir(parents=True)
    (root / "BF16").mkdir()
    (root / "IQ4_XS-3.53bpw").mkdir()
    write_text_model(root / "Q4_K_M" / "model-Q4_K_M.gguf")
    for shard in (1, 2, 3):
        write_text_model(root / "BF16" / f"model-BF16-0000{shard}-of-00003.gguf")
    write_text_model(root / "IQ4_XS-3.53bpw" / "model-IQ4_XS.gguf")
    if projector is not None:
        write_projector(root / "mmproj-F16.gguf", **projector)
    return root


@pytest.mark.parametrize("variant", ["Q4_K_M", "q4_k_m", "BF16", "IQ4_XS", "IQ4_XS-3.53bpw"])
def test_a_quant_in_a_subfolder_sees_the_projector_above_it(drop_in, tmp_path, variant):
    root = _quant_tree(tmp_path / "repo", {"vision": True, "audio": False})
    assert drop_in(str(root), gguf_variant=variant) is True


def test_a_split_quant_is_judged_on_its_first_shard(tmp_path):
    root = _quant_tree(tmp_path / "repo", {"vision": True, "audio": False})
    cache = vision_cache.VisionCache(directory=tmp_path / "store")
    verdict = cache.lookup(str(root), gguf_variant="BF16")
    assert verdict.kind is Kind.VISION and "model-BF16-00001-of-00003.gguf" in verdict.evidence


def test_a_quant_that_is_not_on_disk_is_false(drop_in, tmp_path):
    root = _quant_tree(tmp_path / "repo", {"vision": True, "audio": False})
    assert drop_in(str(root), gguf_variant="Q8_0") is False


def test_weights_beside_their_projector_without_a_variant(drop_in, tmp_path):
    write_text_model(tmp_path / "model-Q4_K_M.gguf")
    write_projector(tmp_path / "mmproj-model-f16.gguf", vision=True, audio=False)
    assert drop_in(str(tmp_path)) is True
    assert drop_in(str(tmp_path / "model-Q4_K_M.gguf")) is True


@pytest.mark.parametrize("projector,require_image,expected", [
    ({"vision": True, "audio": False}, True, True),
    ({"vision": True, "audio": True}, True, True),  # omni
    ({"vision": False, "audio": True}, True, False),  # declared audio only
    ({"vision": False, "audio": True}, False, True),  # ... but a projector exists
    ({"vision": False, "audio": False}, True, True),  # undeclared (older converts): may carry images
    (None, True, False),
    (None, False, False),
])
def test_projector_declarations(drop_in, tmp_path, projector, require_image, expected):
    root = _quant_tree(tmp_path / "repo", projector)
    assert drop_in(str(root), gguf_variant="Q4_K_M", require_image=require_image) is expected


def test_an_unreadable_projector_is_image_capable(drop_in, tmp_path):
    root = _quant_tree(tmp_path / "repo", None)
    (root / "mmproj-F16.gguf").write_bytes(b"GGUF" + os.urandom(64))
    assert drop_in(str(root), gguf_variant="Q4_K_M") is True


def test_a_projector_added_later_is_seen_on_the_next_call(drop_in, tmp_path):
    root = _quant_tree(tmp_path / "repo", None)
    assert drop_in(str(root), gguf_variant="Q4_K_M") is False
    write_projector(root / "mmproj-F16.gguf", vision=True, audio=False)
    assert drop_in(str(root), gguf_variant="Q4_K_M") is True
    (root / "mmproj-F16.gguf").unlink()
    assert drop_in(str(root), gguf_variant="Q4_K_M") is False


def test_require_image_and_the_variant_are_separate_answers_in_the_store(tmp_path):
    root = _quant_tree(tmp_path / "repo", {"vision": False, "audio": True})
    cache = vision_cache.VisionCache(directory=tmp_path / "store", memory_ttl=0)
    assert cache.is_vision_model(str(root), gguf_variant="Q4_K_M") is False
    assert cache.is_vision_model(str(root), gguf_variant="Q4_K_M", require_image=False) is True
    assert cache.is_vision_model(str(root), gguf_variant="Q4_K_M") is False  # not overwritten
    assert cache.lookup(str(root), gguf_variant="Q4_K_M").source is Source.STORE


def test_a_local_checkpoint_folder_with_a_config(hub, drop_in, tmp_path):
    from conftest import config_bytes

    folder = tmp_path / "outputs" / "checkpoint-10"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(config_bytes(TEXT_LLM))
    assert drop_in(str(folder)) is False
    shutil.copy(Path(__file__).parent / "data" / "configs" / (VLM.replace("/", "__") + ".json"),
                folder / "config.json")
    assert drop_in(str(folder)) is True
    assert hub.count() == 0
