"""End-to-end lookups through the real huggingface_hub client against the loopback Hub."""

from __future__ import annotations

import json
import time

import pytest
from conftest import AUDIO, TEXT_LLM, TEXT_LLM_2, VLM, VLM_2, publish, run_python

from vision_cache import Kind, Source


def test_detects_then_answers_from_store_without_requests(hub, make_cache):
    for repo in (VLM, TEXT_LLM, AUDIO):
        publish(hub, repo)
    cache = make_cache()
    first = {repo: cache.lookup(repo) for repo in (VLM, TEXT_LLM, AUDIO)}
    assert [v.kind for v in first.values()] == [Kind.VISION, Kind.NOT_VISION, Kind.NOT_VISION]
    assert all(v.source is Source.DETECTED for v in first.values())
    assert first[VLM].commit_sha and len(first[VLM].commit_sha) == 40
    hub.reset_counts()
    again = {repo: cache.lookup(repo) for repo in (VLM, TEXT_LLM, AUDIO)}
    assert [v.kind for v in again.values()] == [v.kind for v in first.values()]
    assert all(v.source is Source.STORE for v in again.values())
    assert hub.count() == 0
    assert cache.is_vision_model(VLM) is True
    assert cache.is_vision_model(TEXT_LLM) is False


def test_verdict_written_by_one_process_is_served_to_a_new_one_with_zero_requests(hub, store_dir):
    publish(hub, VLM)
    code = (
        "import json, sys, vision_cache\n"
        f"v = vision_cache.VisionCache(directory={str(store_dir)!r}).lookup({VLM!r})\n"
        "print(json.dumps({'kind': v.kind.value, 'source': v.source.value,"
        " 'hf': 'huggingface_hub' in sys.modules, 'tf': 'transformers' in sys.modules,"
        " 'torch': 'torch' in sys.modules}))\n"
    )
    first = json.loads(run_python(code).stdout)
    assert first["kind"] == "vision" and first["source"] == "detected"
    requests_after_first = hub.count()
    assert requests_after_first >= 2  # model_info + config.json
    second = json.loads(run_python(code).stdout)
    assert second == {"kind": "vision", "source": "store", "hf": False, "tf": False, "torch": False}
    assert hub.count() == requests_after_first


def test_repo_ids_are_case_insensitive(hub, make_cache):
    publish(hub, VLM)
    cache = make_cache()
    assert cache.lookup(VLM).source is Source.DETECTED
    hub.reset_counts()
    verdict = cache.lookup(VLM.upper())
    assert verdict.kind is Kind.VISION and verdict.source is Source.STORE
    assert verdict.subject == VLM  # the spelling it was first stored under
    assert hub.count() == 0


def test_moving_main_is_picked_up_after_alias_ttl_and_not_before(hub, make_cache):
    old_sha = publish(hub, TEXT_LLM_2)
    cache = make_cache(alias_ttl=1.0)
    before = cache.lookup(TEXT_LLM_2)
    assert (before.kind, before.commit_sha) == (Kind.NOT_VISION, old_sha)
    from conftest import config_bytes

    new_sha = hub.commit(TEXT_LLM_2, {"config.json": config_bytes(VLM_2)})  # main now holds a VLM
    hub.reset_counts()
    still = cache.lookup(TEXT_LLM_2)
    assert (still.kind, still.commit_sha, still.source) == (Kind.NOT_VISION, old_sha, Source.STORE)
    assert hub.count() == 0
    time.sleep(1.1)
    after = cache.lookup(TEXT_LLM_2)
    assert (after.kind, after.commit_sha, after.source) == (Kind.VISION, new_sha, Source.DETECTED)
    # the old commit's verdict is still there for whoever pins it
    pinned = cache.lookup(TEXT_LLM_2, revision=old_sha)
    assert (pinned.kind, pinned.source) == (Kind.NOT_VISION, Source.STORE)


def test_explicit_sha_and_branch_names(hub, make_cache):
    sha = publish(hub, VLM)
    hub.commit(VLM, {"config.json": b"{}"}, branch="dev")
    cache = make_cache()
    by_sha = cache.lookup(VLM, revision=sha)
    assert by_sha.kind is Kind.VISION and by_sha.commit_sha == sha and by_sha.revision == sha
    hub.reset_counts()
    by_main = cache.lookup(VLM, revision="main")
    # main resolves (one request) to a commit whose verdict is already stored
    assert by_main.kind is Kind.VISION and by_main.source is Source.STORE and by_main.revision == "main"
    assert hub.count(path_contains="config.json") == 0
    dev = cache.lookup(VLM, revision="dev")
    assert dev.kind is Kind.NOT_VISION and dev.commit_sha != sha


def test_missing_repo_and_revision_are_denied_and_expire_after_denied_ttl(hub, make_cache):
    cache = make_cache(denied_ttl=1.0)
    missing = cache.lookup("nobody/not-there")
    assert missing.kind is Kind.DENIED and missing.is_vision is False and missing.commit_sha is None
    assert "not found" in missing.evidence
    publish(hub, VLM)
    no_rev = cache.lookup(VLM, revision="v9")
    assert no_rev.kind is Kind.DENIED and "revision" in no_rev.evidence
    hub.add_repo("nobody/not-there", {"config.json": b'{"model_type": "llava", "vision_config": {}}'})
    hub.reset_counts()
    assert cache.lookup("nobody/not-there").source is Source.STORE  # denial still stored
    assert hub.count() == 0
    time.sleep(1.1)
    assert cache.lookup("nobody/not-there").kind is Kind.VISION


def test_hub_errors_yield_unknown_store_nothing_and_the_next_call_tries_again(hub, make_cache):
    """Studio's rule: a transient failure answers False now and is not remembered; the next call asks again."""
    publish(hub, VLM)
    hub.set_fault(VLM, 503)
    cache = make_cache(hub_timeout=5.0)
    verdict = cache.lookup(VLM)
    assert verdict.kind is Kind.UNKNOWN and cache.is_vision_model(VLM) is False
    assert not [k for k, _, _ in cache.store.scan("verdict")]
    served = hub.count(VLM)
    assert cache.lookup(VLM).kind is Kind.UNKNOWN
    assert hub.count(VLM) > served  # asked again: no shared "False" for a while
    hub.set_fault(VLM, None)
    assert cache.lookup(VLM).kind is Kind.VISION  # healthy again: answered at once


def test_a_hub_that_does_not_answer_is_bounded_by_hub_timeout(hub, make_cache):
    publish(hub, VLM)
    hub.set_fault(VLM, None, delay=20)
    cache = make_cache(hub_timeout=1.0)
    started = time.monotonic()
    verdict = cache.lookup(VLM)
    assert verdict.kind is Kind.UNKNOWN
    assert time.monotonic() - started < 3
    assert not [k for k, _, _ in cache.store.scan("verdict")]
    hub.set_fault(VLM, None)


def test_connection_refused_yields_unknown(store_dir):
    import socket

    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "import vision_cache\n"
        f"c = vision_cache.VisionCache(directory={str(store_dir)!r}, hub_timeout=5)\n"
        "v = c.lookup('Qwen/Qwen2-VL-2B-Instruct')\n"
        "print(v.kind.value, v.is_vision, len(list(c.store.scan('verdict'))))\n"
    )
    out = run_python(code, env={"HF_ENDPOINT": f"http://127.0.0.1:{port}"}).stdout.split()
    assert out == ["unknown", "False", "0"]


def test_stale_alias_serves_when_offline(hub, make_cache):
    sha = publish(hub, VLM)
    cache = make_cache(alias_ttl=0.5)
    assert cache.lookup(VLM).kind is Kind.VISION
    time.sleep(0.6)
    hub.reset_counts()
    offline = cache.lookup(VLM, local_files_only=True)
    assert (offline.kind, offline.source, offline.commit_sha) == (Kind.VISION, Source.STALE, sha)
    assert hub.count() == 0
    hub.set_fault(VLM, 503)
    down = cache.lookup(VLM)
    assert (down.kind, down.source) == (Kind.VISION, Source.STALE)


def test_offline_with_nothing_known_is_unknown(hub, make_cache):
    cache = make_cache()
    verdict = cache.lookup("someone/never-seen", local_files_only=True)
    assert verdict.kind is Kind.UNKNOWN
    assert hub.count() == 0


@pytest.mark.parametrize("repo", [VLM_2, TEXT_LLM])
def test_module_level_is_vision_model_uses_the_default_cache(hub, repo, monkeypatch, tmp_path):
    import vision_cache.studio as cache_module

    monkeypatch.setenv("VISION_CACHE_DIR", str(tmp_path / "default"))
    monkeypatch.setattr(cache_module, "_default", None)
    publish(hub, repo)
    expected = repo == VLM_2
    assert cache_module.is_vision_model(repo) is expected
    hub.reset_counts()
    assert cache_module.default_cache().lookup(repo).source in (Source.MEMORY, Source.STORE)
    assert hub.count() == 0
    assert cache_module.default_cache().store.location == str(tmp_path / "default")
