"""The hit path's memories never weaken what a stored answer must be (issue 10).

The ledger remembers a validated record by its exact stored text, and an alias until its own
``fresh_until``; the cache reuses a parsed name for up to a second. These tests prove that, with
all of that in place, on disk and on Redis: a record that changes in any way is validated again
(store contents are hostile), nothing expired is served, a stored negative from an older detector
is re-checked, and a purge is seen on the next call with ``memory_ttl=0``.
"""

from __future__ import annotations

import time

import pytest
from conftest import TEXT_LLM, VLM, publish

from vision_cache import Kind, Source
from vision_cache.ledger import Keys


def _stored(cache, subject_fragment: str) -> tuple[str, dict]:
    key, record, _ = next((k, v, e) for k, v, e in cache.store.scan(Keys.family(Keys.VERDICT))
                          if subject_fragment.lower() in k)
    return key, record


def test_a_hostile_record_after_a_remembered_good_one_is_validated_again(hub, make_cache):
    sha = publish(hub, VLM)
    cache = make_cache()
    cache.lookup(VLM)
    key, good = _stored(cache, VLM)
    for revision in (None, sha):  # by name (through the alias) and by commit
        assert cache.lookup(VLM, revision=revision).source is Source.STORE  # remembered by its text
    other = "0" * 40
    hostile = [
        {**good, "kind": "unknown"},  # an unknown is never stored
        {**good, "kind": "bogus"},
        {**good, "commit_sha": other},  # a record under the wrong key
        {**good, "subject": "someone/else"},
        {**good, "created_at": "yesterday"},
        {**good, "created_at": True},  # equal to 1 in Python: must not pass for the remembered record
        {**good, "evidence": "line\nbreak"},
        {**good, "expires_at": time.time() - 1},  # expired
        [good],
        "vision",
    ]
    for planted in hostile:
        for revision in (None, sha):
            cache.store.set(key, planted, None)  # (a miss re-detects and writes the good record back)
            verdict = cache.lookup(VLM, revision=revision)
            assert verdict.source is Source.DETECTED, (planted, revision)  # a miss: detected again
            assert verdict.kind is Kind.VISION
        cache.store.set(key, good, None)
        assert cache.lookup(VLM, revision=sha).source is Source.STORE


def test_a_remembered_verdict_is_not_served_past_its_expiry(hub, make_cache):
    sha = publish(hub, TEXT_LLM)
    cache = make_cache(negative_ttl=0.5)
    cache.lookup(TEXT_LLM)
    assert cache.lookup(TEXT_LLM, revision=sha).source is Source.STORE  # its text is now remembered
    key, record = _stored(cache, TEXT_LLM)
    record["expires_at"] = time.time() + 0.3  # the same record, kept in the store past its own expiry
    cache.store.set(key, record, None)
    assert cache.lookup(TEXT_LLM, revision=sha).source is Source.STORE
    time.sleep(0.4)
    hub.reset_counts()
    again = cache.lookup(TEXT_LLM, revision=sha)
    assert again.source is Source.DETECTED and again.kind is Kind.NOT_VISION


def test_an_older_detectors_negative_is_rechecked_every_time_it_is_read(hub, make_cache):
    """A record whose text the ledger has already seen is still judged against the running detector."""
    publish(hub, TEXT_LLM)
    cache = make_cache()
    cache.lookup(TEXT_LLM)
    key, record = _stored(cache, TEXT_LLM)
    older = {**record, "detector": "rules/1 transformers/4.0.0"}
    for _ in range(2):
        cache.store.set(key, older, None)  # the same bytes both times
        verdict = cache.lookup(TEXT_LLM)
        assert verdict.source is Source.DETECTED and verdict.detector == cache.fingerprint
    newer = {**record, "detector": "rules/999 transformers/999.0.0"}
    cache.store.set(key, newer, None)
    assert cache.lookup(TEXT_LLM).source is Source.STORE  # a newer detector's negative stands


def test_a_purge_by_another_process_is_seen_on_the_next_call(hub, make_cache):
    sha = publish(hub, VLM)
    reader, purger = make_cache(memory_ttl=0), make_cache()
    reader.lookup(VLM)
    for revision in (None, sha):
        assert reader.lookup(VLM, revision=revision).source is Source.STORE
        assert purger.purge(VLM) >= 1
        assert reader.lookup(VLM, revision=revision).source is Source.DETECTED


def test_an_alias_is_not_trusted_past_its_fresh_until(hub, make_cache):
    """The alias a process remembers lives no longer than the stored one says."""
    old_sha = publish(hub, TEXT_LLM)
    cache = make_cache(alias_ttl=0.3)
    assert cache.lookup(TEXT_LLM).commit_sha == old_sha
    from conftest import config_bytes

    new_sha = hub.commit(TEXT_LLM, {"config.json": config_bytes(VLM)})
    assert cache.lookup(TEXT_LLM).commit_sha == old_sha  # main is trusted for alias_ttl
    time.sleep(0.4)
    moved = cache.lookup(TEXT_LLM)
    assert (moved.commit_sha, moved.kind) == (new_sha, Kind.VISION)


def test_a_reused_parse_follows_the_ambient_token_at_once(make_cache, monkeypatch):
    """A parsed name is reused for up to a second, but never across a login or logout."""
    from vision_cache.hub import MemoryHub
    from vision_cache.target import refresh_ambient

    memory_hub = MemoryHub()
    memory_hub.add_repo("acme/gated", {"config.json": b'{"model_type": "llava", "vision_config": {}}'},
                        gated_for={"hf_allowed_token"})
    cache = make_cache(hub=memory_hub)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    refresh_ambient()
    try:
        assert cache.lookup("acme/gated").kind is Kind.DENIED  # anonymous
        monkeypatch.setenv("HF_TOKEN", "hf_allowed_token")
        refresh_ambient()  # a login in this process
        assert cache.lookup("acme/gated").kind is Kind.VISION
        monkeypatch.delenv("HF_TOKEN")
        refresh_ambient()
        assert cache.lookup("acme/gated").kind is Kind.DENIED
    finally:
        refresh_ambient()


def test_a_folder_created_under_a_hub_name_is_noticed_within_a_second(make_cache, tmp_path, monkeypatch):
    from vision_cache.hub import MemoryHub

    memory_hub = MemoryHub()
    memory_hub.add_repo("acme/vlm", {"config.json": b'{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}'})
    cache = make_cache(hub=memory_hub)
    monkeypatch.chdir(tmp_path)
    assert cache.lookup("acme/vlm").kind is Kind.NOT_VISION  # the Hub repo
    local = tmp_path / "acme" / "vlm"
    local.mkdir(parents=True)
    (local / "config.json").write_text('{"model_type": "llava", "vision_config": {}}')
    time.sleep(1.05)
    verdict = cache.lookup("acme/vlm")
    assert verdict.kind is Kind.VISION and verdict.subject == str(local)  # now the local folder


@pytest.mark.parametrize("native_text", [True, False], ids=["text", "values"])
def test_a_record_equal_in_value_but_not_in_type_is_validated_again(native_text, tmp_path):
    """From a store that hands back text, records are remembered by text; from one that cannot
    (Redis behind its fallback tier, a custom store), by value: ``true == 1`` must not pass."""
    from vision_cache import VisionCache
    from vision_cache.hub import MemoryHub
    from vision_cache.stores.base import Store
    from vision_cache.stores.memory import MemoryStore

    class ValuesOnly(MemoryStore):
        get_text = Store.get_text  # not native: the ledger reads values with get()

    memory_hub = MemoryHub()
    sha = memory_hub.add_repo("acme/vlm", {"config.json": b'{"model_type": "llava", "vision_config": {}}'})
    cache = VisionCache(directory=tmp_path / "store", hub=memory_hub, memory_ttl=0)
    cache.ledger.store = MemoryStore() if native_text else ValuesOnly()
    cache.lookup("acme/vlm", revision=sha)
    key, record = _stored(cache, "acme/vlm")
    cache.store.set(key, {**record, "created_at": 1}, None)  # valid: one second after 1970
    assert cache.lookup("acme/vlm", revision=sha).source is Source.STORE
    assert cache.lookup("acme/vlm", revision=sha).source is Source.STORE  # remembered
    cache.store.set(key, {**record, "created_at": True}, None)  # equal to 1, but not a time
    assert cache.lookup("acme/vlm", revision=sha).source is Source.DETECTED
    cache.store.set(key, {**record, "created_at": 1.0}, None)  # equal, and a time: the same verdict
    assert cache.lookup("acme/vlm", revision=sha).source is Source.STORE


def test_read_many_answers_as_read_does_one_by_one(hub, make_cache):
    """The warm start's batched re-check: every case of a lookup by name or by commit, at once."""
    from conftest import AUDIO, TEXT_LLM_2, VLM_2

    shas = {m: publish(hub, m) for m in (VLM, TEXT_LLM, AUDIO, VLM_2, TEXT_LLM_2)}
    cache = make_cache()
    for model in (VLM, TEXT_LLM, AUDIO, VLM_2, TEXT_LLM_2):
        cache.lookup(model)
    assert cache.lookup("acme/gone").kind is Kind.DENIED  # a stored denial, no alias
    verdict_key, _ = _stored(cache, AUDIO)
    cache.store.delete(verdict_key)  # a fresh alias whose verdict is gone
    alias_key = next(k for k, _, _ in cache.store.scan(Keys.family(Keys.ALIAS)) if VLM_2.lower() in k)
    cache.store.set(alias_key, {"sha": "nope"}, None)  # a hostile alias
    bad_key, bad = _stored(cache, TEXT_LLM_2)
    cache.store.set(bad_key, {**bad, "kind": "bogus"}, None)  # a hostile verdict
    names = [VLM, TEXT_LLM, AUDIO, VLM_2, TEXT_LLM_2, "acme/gone", "acme/never-seen"]
    reads = [cache._parse(name, None, revision) for name in names for revision in (None,)]
    reads += [cache._parse(VLM, None, shas[VLM]), cache._parse(TEXT_LLM, None, shas[TEXT_LLM])]
    fresh = make_cache()  # knows no alias yet
    one_by_one = [fresh.ledger.read(target, version).verdict for target, version in reads]
    batched = make_cache().ledger.read_many(reads)
    assert batched == one_by_one
    assert [None if v is None else v.kind.value for v in batched] == [
        "vision", "not_vision", None, None, None, "denied", None, "vision", "not_vision"]
    found = make_cache().stored_answers(names + ["./not/here", "bad name!"])
    assert sorted(found) == sorted([TEXT_LLM, VLM, "acme/gone"])
