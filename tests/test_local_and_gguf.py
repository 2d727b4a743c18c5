"""Local folders and GGUF models (local files and Hub repos), with real files."""

from __future__ import annotations

import shutil

import pytest
from conftest import TEXT_LLM, VLM, config_bytes
from gguf_fixtures import write_projector, write_text_model

from vision_cache import Kind, LocalModelNotFoundError, Source


@pytest.fixture
def vlm_folder(tmp_path):
    folder = tmp_path / "outputs" / "checkpoint-100"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(config_bytes(VLM))
    (folder / "model.safetensors").write_bytes(b"\0" * 1024)
    return folder


def test_local_folder_is_detected_then_served_from_the_store(hub, make_cache, vlm_folder):
    cache = make_cache()
    first = cache.lookup(str(vlm_folder))
    assert (first.kind, first.source, first.subject) == (Kind.VISION, Source.DETECTED, str(vlm_folder))
    again = cache.lookup(str(vlm_folder))
    assert again.source is Source.STORE and again.commit_sha == first.commit_sha
    assert hub.count() == 0  # a local model never touches the Hub


def test_editing_config_json_is_re_detected_and_weights_do_not_matter(make_cache, vlm_folder):
    cache = make_cache()
    before = cache.lookup(str(vlm_folder))
    (vlm_folder / "model.safetensors").write_bytes(b"\1" * 4096)  # weights do not decide the verdict
    assert cache.lookup(str(vlm_folder)).source is Source.STORE
    (vlm_folder / "config.json").write_bytes(config_bytes(TEXT_LLM))
    after = cache.lookup(str(vlm_folder))
    assert (after.kind, after.source) == (Kind.NOT_VISION, Source.DETECTED)
    assert after.commit_sha != before.commit_sha


def test_relative_and_home_paths_are_normalised(make_cache, vlm_folder, monkeypatch):
    cache = make_cache()
    monkeypatch.chdir(vlm_folder.parent)
    assert cache.lookup("./checkpoint-100").subject == str(vlm_folder)
    assert cache.lookup("checkpoint-100/../checkpoint-100").source is Source.STORE


def test_folder_without_config_is_not_vision(make_cache, tmp_path):
    verdict = make_cache().lookup(str(tmp_path))
    assert verdict.kind is Kind.NOT_VISION and "no config.json" in verdict.evidence


def test_missing_folder_is_an_error_not_a_verdict(make_cache, tmp_path):
    with pytest.raises(LocalModelNotFoundError):
        make_cache().lookup(str(tmp_path / "gone"))


def test_local_invalid_json_is_not_vision(make_cache, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    verdict = make_cache().lookup(str(tmp_path))
    assert verdict.kind is Kind.NOT_VISION and "not valid JSON" in verdict.evidence


# -- GGUF ---------------------------------------------------------------------------------------


def test_gguf_without_projector_is_not_vision(make_cache, tmp_path):
    weights = write_text_model(tmp_path / "model-Q4_K_M.gguf")
    verdict = make_cache().lookup(str(weights))
    assert verdict.kind is Kind.NOT_VISION and "without a projector" in verdict.evidence


def test_adding_an_image_projector_later_changes_the_answer(make_cache, tmp_path):
    weights = write_text_model(tmp_path / "model-Q4_K_M.gguf")
    cache = make_cache()
    assert cache.lookup(str(weights)).kind is Kind.NOT_VISION
    write_projector(tmp_path / "mmproj-F16.gguf", vision=True, audio=False)
    verdict = cache.lookup(str(weights))
    assert (verdict.kind, verdict.source) == (Kind.VISION, Source.DETECTED)
    assert verdict.evidence == "projector mmproj-F16.gguf accepts images (weights model-Q4_K_M.gguf)"
    assert cache.lookup(str(tmp_path)).kind is Kind.VISION  # the folder too


def test_an_audio_only_projector_does_not_count(make_cache, tmp_path):
    write_text_model(tmp_path / "model.gguf")
    write_projector(tmp_path / "mmproj-audio.gguf", vision=False, audio=True)
    verdict = make_cache().lookup(str(tmp_path / "model.gguf"))
    assert verdict.kind is Kind.NOT_VISION and "audio-only" in verdict.evidence


def test_an_omni_projector_counts(make_cache, tmp_path):
    write_text_model(tmp_path / "model.gguf")
    write_projector(tmp_path / "mmproj-omni.gguf", vision=True, audio=True)
    assert make_cache().lookup(str(tmp_path)).kind is Kind.VISION


def test_an_unreadable_projector_counts_as_image_capable_with_evidence(make_cache, tmp_path):
    """Studio's rule: a projector the reader cannot open (or that declares nothing) may carry images."""
    write_text_model(tmp_path / "model.gguf")
    (tmp_path / "mmproj-broken.gguf").write_bytes(b"GGUF garbage")
    verdict = make_cache().lookup(str(tmp_path))
    assert verdict.kind is Kind.VISION and "unreadable" in verdict.evidence


def _gguf_repo_files(tmp_path, projector: str | None) -> dict[str, bytes]:
    files = {"README.md": b"# GGUF\n", "model-Q4_K_M.gguf": write_text_model(tmp_path / "w.gguf").read_bytes()}
    if projector == "vision":
        files["mmproj-model-f16.gguf"] = write_projector(tmp_path / "p.gguf", vision=True, audio=False).read_bytes()
    elif projector == "audio":
        files["mmproj-model-f16.gguf"] = write_projector(tmp_path / "p.gguf", vision=False, audio=True).read_bytes()
    return files


@pytest.mark.parametrize(("projector", "expected"), [(None, Kind.NOT_VISION), ("vision", Kind.VISION),
                                                      ("audio", Kind.NOT_VISION)])
def test_hub_gguf_repo_is_judged_from_its_files_and_projector_metadata(hub, make_cache, tmp_path, projector,
                                                                        expected):
    hub.add_repo("someone/Model-GGUF", _gguf_repo_files(tmp_path, projector))
    verdict = make_cache().lookup("someone/Model-GGUF")
    assert verdict.kind is expected, verdict.evidence
    assert hub.count(path_contains="model-Q4_K_M.gguf") == 0  # the weights are never downloaded


def test_hub_gguf_repo_gains_a_projector_in_a_new_commit(hub, make_cache, tmp_path):
    hub.add_repo("someone/Model-GGUF", _gguf_repo_files(tmp_path, None))
    cache = make_cache(alias_ttl=0)
    assert cache.lookup("someone/Model-GGUF").kind is Kind.NOT_VISION
    projector = write_projector(tmp_path / "p2.gguf", vision=True, audio=False).read_bytes()
    hub.commit("someone/Model-GGUF", {"mmproj-BF16.gguf": projector})
    assert cache.lookup("someone/Model-GGUF").kind is Kind.VISION


def test_local_hf_snapshot_folder_is_a_local_model(make_cache, tmp_path):
    snapshot = tmp_path / "models--org--m" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    shutil.copy(write_text_model(tmp_path / "x.gguf"), snapshot / "m.gguf")
    write_projector(snapshot / "mmproj.gguf", vision=True, audio=False)
    assert make_cache().lookup(str(snapshot)).kind is Kind.VISION


def test_any_projector_counts_when_images_are_not_required(make_cache, tmp_path):
    from vision_cache.detect.detector import DefaultDetector

    write_text_model(tmp_path / "model.gguf")
    write_projector(tmp_path / "mmproj-audio.gguf", vision=False, audio=True)
    cache = make_cache(detector=DefaultDetector(gguf_require_image=False))
    verdict = cache.lookup(str(tmp_path))
    assert verdict.kind is Kind.VISION and "any projector" in verdict.evidence
    assert verdict.detector.endswith("gguf-any-projector")
