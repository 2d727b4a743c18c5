"""Warm start never turns a token's download into an answer for anonymous callers.

A private or gated model downloaded with a token sits in the local HF cache. A warm start (with no
token) judges that snapshot from its files, and must keep what it learnt as evidence of content
only: an anonymous lookup, by name or by commit, is denied online, and offline it may answer
``stale`` but stores nothing for the anonymous scope. A lookup with the token confirms access with
one ``model_info`` (plus, for a gated repo, the HEAD that proves file access) and adopts the
evidence: no ``config.json`` is downloaded.

Against the loopback Hub stand-in, with the real ``huggingface_hub`` client.
"""

from __future__ import annotations

import json

import pytest
from conftest import VLM, publish, run_python

from vision_cache import Kind, Source, VisionCache
from vision_cache.ledger import Keys

TOKEN = "hf_" + "WarmStartLeak" * 2 + "x" * 8

OFFLINE_LOOKUPS = r"""
import json, sys
from vision_cache import VisionCache
store, model, sha = sys.argv[1:4]
cache = VisionCache(directory=store, memory_ttl=0)
out = []
for revision in (None, sha):
    v = cache.lookup(model, local_files_only=True, revision=revision)
    out.append([v.kind.value, v.source.value])
print(json.dumps(out))
"""


@pytest.mark.parametrize("access", ["private", "gated"])
def test_a_token_download_warmed_into_the_store_is_not_served_to_anonymous_callers(hub, tmp_path, access):
    from huggingface_hub import hf_hub_download

    sha = publish(hub, VLM, **{f"{access}_tokens": {TOKEN}})
    hf_cache = tmp_path / "hf-cache"
    hf_hub_download(VLM, "config.json", token=TOKEN, cache_dir=str(hf_cache))
    store = tmp_path / "store"

    warm = VisionCache(directory=store, memory_ttl=0)
    hub.reset_counts()
    report = warm.warm_start(hf_cache_dir=str(hf_cache))
    assert (report.snapshots, report.detected, hub.count()) == (1, 1, 0), report
    warm.close()

    # Online, anonymous: denied, by name and by commit.
    anonymous = VisionCache(directory=store, memory_ttl=0)
    for revision in (None, sha):
        verdict = anonymous.lookup(VLM, revision=revision)
        assert verdict.kind is Kind.DENIED, (revision, verdict)
        assert anonymous.is_vision_model(VLM, revision=revision) is False
    anonymous.close()

    # Offline, anonymous, in a process whose HF cache is the one holding the download: at most a
    # stale answer, never kept for the anonymous scope, and no request.
    hub.reset_counts()
    script = "import sys; sys.argv[1:] = " + repr([str(store), VLM, sha]) + "\n" + OFFLINE_LOOKUPS
    answers = json.loads(run_python(script, env={"HF_HUB_CACHE": str(hf_cache)}).stdout.strip().splitlines()[-1])
    for kind, source in answers:
        assert kind != "vision" or source == Source.STALE.value, answers
    assert hub.count() == 0
    reader = VisionCache(directory=store, memory_ttl=0)
    anonymous_keys = [key for key, _, _ in reader.store.scan() if Keys.split(key)[-1] == "anonymous"]
    kept = [e for e in reader.entries() if e.scope == "anonymous" and e.verdict.kind is not Kind.DENIED]
    assert kept == [], kept
    assert not [k for k in anonymous_keys if k.startswith(Keys.family(Keys.ALIAS))], anonymous_keys

    # With the token: access confirmed, the warm evidence adopted, config.json never downloaded.
    hub.reset_counts()
    verdict = reader.lookup(VLM, hf_token=TOKEN)
    assert (verdict.kind, verdict.commit_sha) == (Kind.VISION, sha), verdict
    assert hub.count(path_contains="config.json", method="GET") == 0, hub.requests
    assert hub.count(path_contains="/api/models/", method="GET") == 1, hub.requests  # one model_info
    assert hub.count() == (1 if access == "private" else 2), hub.requests  # gated: + one HEAD (file access)
    by_sha = reader.lookup(VLM, hf_token=TOKEN, revision=sha)
    assert (by_sha.kind, by_sha.source) == (Kind.VISION, Source.STORE)  # adopted for the token's scope
    reader.close()
