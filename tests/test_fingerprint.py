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


def test_installed_version_agrees_with_importlib_metadata_for_every_installed_distribution():
    """The hit path reads versions from .dist-info folders; it must say what importlib.metadata says."""
    import importlib.metadata as metadata

    from vision_cache.fingerprint import installed_version

    names = {dist.metadata["Name"] for dist in metadata.distributions()} | {"surely-not-installed-x"}
    assert len(names) > 20
    for name in sorted(n for n in names if n):
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = "none"
        assert installed_version(name) == expected, name


def _dist_info(folder, name: str, version: str, suffix: str = ".dist-info") -> None:
    info = folder / f"{name}-{version}{suffix}"
    info.mkdir(parents=True)
    (info / ("METADATA" if suffix == ".dist-info" else "PKG-INFO")).write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n")


def test_installed_version_defers_to_importlib_metadata_when_the_layout_is_ambiguous(tmp_path, monkeypatch):
    import importlib.metadata as metadata
    import zipfile

    from vision_cache import fingerprint

    first, second, eggs = tmp_path / "first", tmp_path / "second", tmp_path / "eggs"
    _dist_info(first, "Demo_Pkg", "1.0")  # names normalise: Demo_Pkg, demo-pkg, demo.pkg
    _dist_info(second, "demo_pkg", "2.0")
    _dist_info(second, "twice", "1.0")
    _dist_info(second, "twice", "2.0")
    _dist_info(eggs, "egged", "3.0", ".egg-info")
    archive = tmp_path / "packed.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-4.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 4.0\n\n")
    monkeypatch.setattr("sys.path", [str(first), str(second), str(eggs), str(archive)])
    assert fingerprint._dist_info_version("demo-pkg") == "1.0"  # the first folder on sys.path wins
    assert fingerprint._dist_info_version("twice") is None  # two candidates: listing order decides
    assert fingerprint._dist_info_version("egged") is None  # an egg
    assert fingerprint._dist_info_version("zipped") is None  # a zip on sys.path
    for name in ("demo-pkg", "Demo.Pkg", "twice", "egged", "zipped", "absent"):
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = "none"
        assert fingerprint.installed_version(name) == expected, name


def test_the_cache_computes_the_default_detectors_fingerprint_without_building_it(make_cache):
    from vision_cache.detect.detector import DefaultDetector
    from vision_cache.hub import MemoryHub

    cache = make_cache()
    assert cache._detector is None
    assert cache.fingerprint == DefaultDetector(MemoryHub()).fingerprint
    assert cache._detector is None
    assert cache.fingerprint == cache.detector.fingerprint  # the same once it is built


def test_a_stored_hit_of_either_kind_imports_nothing_heavy(hub, tmp_path):
    """A fresh process answering from the store imports neither huggingface_hub, transformers, torch,
    importlib.metadata, diskcache nor the rules, for a vision and a not_vision verdict alike."""
    publish(hub, VLM)
    publish(hub, TEXT_LLM)
    store = tmp_path / "store"
    run_python(f"from vision_cache import VisionCache; c = VisionCache(directory={str(store)!r}); "
               f"c.lookup({VLM!r}); c.lookup({TEXT_LLM!r})")
    heavy = ("huggingface_hub", "transformers", "torch", "importlib.metadata", "diskcache",
             "vision_cache.detect.rules", "vision_cache.hub")
    for model, kind in ((VLM, "vision"), (TEXT_LLM, "not_vision")):
        out = run_python(f"import sys; from vision_cache import VisionCache; "
                         f"v = VisionCache(directory={str(store)!r}).lookup({model!r}); "
                         f"print(v.source.value, v.kind.value, [m for m in {heavy!r} if m in sys.modules])").stdout
        assert out.split(" ", 2) == ["store", kind, "[]\n"], out
