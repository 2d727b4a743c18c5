"""Every genuine config.json in tests/data/configs, served by the loopback Hub, gets the right verdict."""

from __future__ import annotations

import pytest
from conftest import manifest, publish

from vision_cache import Kind

CORPUS = manifest()


@pytest.fixture(scope="module")
def corpus_cache(tmp_path_factory):
    from vision_cache import VisionCache

    cache = VisionCache(directory=tmp_path_factory.mktemp("corpus-store"))
    yield cache
    cache.close()


@pytest.mark.parametrize("entry", CORPUS, ids=[e["repo_id"] for e in CORPUS])
def test_real_model_verdict(hub, corpus_cache, entry):
    publish(hub, entry["repo_id"])
    verdict = corpus_cache.lookup(entry["repo_id"])
    assert verdict.kind is Kind(entry["expected"]), f"{entry['repo_id']}: {verdict.evidence} ({entry['why']})"
    assert verdict.evidence


def test_corpus_is_large_and_varied_enough():
    vlms = [e for e in CORPUS if e["expected"] == "vision"]
    others = [e for e in CORPUS if e["expected"] == "not_vision"]
    assert len(CORPUS) >= 40 and len(vlms) >= 20 and len(others) >= 20
    assert len({e["family"] for e in vlms}) >= 12
    assert sum(1 for e in vlms if e["remote_code"]) >= 8
    assert all(e["source"] for e in CORPUS)
