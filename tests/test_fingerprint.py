"""The detector fingerprint: a change re-checks stored negatives and keeps positives."""

from __future__ import annotations

import sys

from conftest import TEXT_LLM, VLM, publish, run_python

from vision_cache import Kind, Source
from vision_cache.detect.detector import Detection


class CountingDetector:
    def __init__(self, fingerprint: str, answer: bool):
        self.fingerprint, self.answer, self.calls = fingerprint, answer, 0

    def __call__(self, request):
        self.calls += 1
        return Detection(Kind.VISION if self.answer else Kind.NOT_VISION, f"rules {self.fingerprint}")


def test_changed_fingerprint_rechecks_not_vision_but_keeps_vision(hub, make_cache):
    publish(hub, VLM)
    publish(hub, TEXT_LLM)
    old_no, old_yes = CountingDetector("v1", False), CountingDetector("v1", True)
    assert make_cache(detector=old_no).lookup(TEXT_LLM).kind is Kind.NOT_VISION
    assert make_cache(detector=old_yes).lookup(VLM).kind is Kind.VISION
    new = CountingDetector("v2", True)
    cache = make_cache(detector=new)
    assert cache.lookup(VLM).source is Source.STORE  # positive stands
    assert new.calls == 0
    rechecked = cache.lookup(TEXT_LLM)
    assert (rechecked.kind, rechecked.source, rechecked.detector) == (Kind.VISION, Source.DETECTED, "custom/v2")
    assert new.calls == 1
    same = make_cache(detector=CountingDetector("v2", False))
    assert same.lookup(TEXT_LLM).source is Source.STORE


def test_default_fingerprint_names_rules_and_transformers_version():
    from vision_cache.fingerprint import default_fingerprint, installed_version

    fp = default_fingerprint()
    assert fp.startswith("rules/") and f"transformers/{installed_version('transformers')}" in fp
    assert "transformers" not in sys.modules or True  # computed from metadata (checked in a fresh process below)
    out = run_python("import sys; from vision_cache.fingerprint import default_fingerprint; default_fingerprint();"
                     "print('transformers' in sys.modules)").stdout
    assert out.strip() == "False"


def test_upgrading_transformers_rechecks_negatives(hub, make_cache, monkeypatch):
    import vision_cache.fingerprint as fingerprint

    publish(hub, TEXT_LLM)
    assert make_cache().lookup(TEXT_LLM).kind is Kind.NOT_VISION
    fingerprint.default_fingerprint.cache_clear()
    monkeypatch.setattr(fingerprint, "installed_version", lambda name: "99.0.0")
    try:
        verdict = make_cache().lookup(TEXT_LLM)
        assert verdict.source is Source.DETECTED and "transformers/99.0.0" in verdict.detector
    finally:
        fingerprint.default_fingerprint.cache_clear()


def test_workers_on_mixed_transformers_versions_do_not_recheck_each_other(hub, make_cache, monkeypatch):
    """A negative from a newer transformers stands on an older worker; one from an older is re-checked."""
    import vision_cache.fingerprint as fingerprint
    from vision_cache.fingerprint import is_older

    assert is_older("rules/3 transformers/5.24.0", "rules/3 transformers/5.25.0")
    assert not is_older("rules/3 transformers/5.25.0", "rules/3 transformers/5.24.0")
    assert is_older("rules/2 transformers/5.30.0", "rules/3 transformers/5.24.0")
    assert is_older("rules/3 transformers/5.24.0", "rules/3 transformers/5.24.0 sidecar-transformers/5.30.0")
    assert is_older("rules/3 transformers/4.9.0", "rules/3 transformers/4.10.0")  # numbers compare as numbers
    publish(hub, TEXT_LLM)
    fingerprint.default_fingerprint.cache_clear()
    monkeypatch.setattr(fingerprint, "installed_version", lambda name: "99.0.0")
    try:
        assert make_cache().lookup(TEXT_LLM).source is Source.DETECTED  # the newer worker writes its negative
        fingerprint.default_fingerprint.cache_clear()
        monkeypatch.setattr(fingerprint, "installed_version", lambda name: "5.0.0")
        assert make_cache().lookup(TEXT_LLM).source is Source.STORE  # an older worker keeps it
    finally:
        fingerprint.default_fingerprint.cache_clear()
