"""Detection beyond the raw read: transformers fallback, the sidecar interpreter, custom detectors,
and the failure table."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import VLM, publish

from vision_cache import ConfigurationError, Kind, Source
from vision_cache.detect.detector import DefaultDetector, Detection
from vision_cache.detect.failures import SidecarError, classify_exception

# A config the raw rules cannot judge: a known text generator without vision keys, whose config class
# in transformers declares a vision sub-config (only transformers can tell).
PHI4_BARE = {"model_type": "phi4_multimodal", "architectures": ["Phi4MultimodalForCausalLM"]}
UNKNOWN_TYPE = {"model_type": "brand_new_arch", "architectures": ["BrandNewForCausalLM"]}


def _fake_sidecar(tmp_path: Path, body: str) -> str:
    """A stand-in interpreter that misbehaves on purpose (a fault the real one cannot produce on demand)."""
    script = tmp_path / "python"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_inconclusive_raw_read_asks_transformers_in_process():
    detection = DefaultDetector().judge_config_bytes(json.dumps(PHI4_BARE).encode())
    assert detection.kind is Kind.VISION and "declares a vision_config" in detection.evidence
    unknown = DefaultDetector().judge_config_bytes(json.dumps(UNKNOWN_TYPE).encode())
    assert unknown.kind is Kind.NOT_VISION and "unknown to transformers" in unknown.evidence


def test_sidecar_interpreter_judges_with_its_own_transformers(hub, make_cache):
    hub.add_repo("someone/bare-phi4", {"config.json": json.dumps(PHI4_BARE).encode()})
    cache = make_cache(sidecar_python=sys.executable)  # stands in for another venv's python
    verdict = cache.lookup("someone/bare-phi4")
    assert verdict.kind is Kind.VISION and "(sidecar)" in verdict.evidence
    assert "sidecar-transformers/" in verdict.detector


def test_sidecar_never_receives_the_token_or_vision_cache(tmp_path):
    seen = tmp_path / "seen"
    python = _fake_sidecar(tmp_path, f'echo "$@" > {seen}; env > {seen}.env; cat > {seen}.stdin; '
                                     'echo \'{"transformers": "9.9", "known_type": false}\'')
    os.environ["HF_TOKEN"] = "hf_should_not_leak"
    try:
        detector = DefaultDetector(sidecar_python=python)
        detection = detector.judge_config_bytes(json.dumps(UNKNOWN_TYPE).encode())
    finally:
        del os.environ["HF_TOKEN"]
    assert detection.kind is Kind.NOT_VISION and "transformers 9.9" in detection.evidence
    argv = seen.read_text()
    assert argv.startswith("-I ") and argv.strip().endswith("probe.py")  # isolated mode: no vision_cache
    assert "hf_should_not_leak" not in argv + Path(f"{seen}.env").read_text()
    assert json.loads(Path(f"{seen}.stdin").read_text()) == UNKNOWN_TYPE


@pytest.mark.parametrize(("body", "message"), [
    ("exit 3", "exited with status 3"),
    ("sleep 30", "timed out"),
    ("echo not-json", "no JSON"),
])
def test_sidecar_failures_are_unknown_and_never_stored(hub, make_cache, tmp_path, body, message):
    hub.add_repo("someone/odd", {"config.json": json.dumps(UNKNOWN_TYPE).encode()})
    cache = make_cache(sidecar_python=_fake_sidecar(tmp_path, body), sidecar_timeout=1)
    verdict = cache.lookup("someone/odd")
    assert verdict.kind is Kind.UNKNOWN and message in verdict.evidence
    assert not [k for k, _, _ in cache.store.scan("verdict")]


def test_sidecar_setting_is_validated(tmp_path, monkeypatch):
    from vision_cache import VisionCache

    with pytest.raises(ConfigurationError, match="not an executable"):
        VisionCache(directory=tmp_path, sidecar_python=str(tmp_path / "nope"))
    monkeypatch.setenv("VISION_CACHE_SIDECAR_PYTHON", sys.executable)
    assert VisionCache(directory=tmp_path).settings.sidecar_python == os.path.abspath(sys.executable)


def test_probe_script_is_self_contained_under_isolated_mode():
    from vision_cache.detect.fallback import PROBE_SCRIPT

    source = Path(PROBE_SCRIPT).read_text()
    assert "vision_cache" not in source.replace('"""', "").split("import")[0] or "from vision_cache" not in source
    assert "from vision_cache" not in source and "import vision_cache" not in source
    out = subprocess.run([sys.executable, "-I", PROBE_SCRIPT], input=json.dumps(PHI4_BARE).encode(),
                         capture_output=True, check=True).stdout
    answer = json.loads(out)
    assert answer["vision_subconfig"] == "vision_config" and answer["known_type"] is True
    assert answer["text_generator"] is True and answer["vision_type"] is False


def test_custom_detector_contract(hub, make_cache):
    publish(hub, VLM)
    seen = []

    def detector(request):
        seen.append(request)
        return False

    cache = make_cache(detector=detector)
    verdict = cache.lookup(VLM, hf_token="hf_x")
    assert verdict.kind is Kind.NOT_VISION and verdict.evidence == "custom detector"
    request = seen[0]
    assert request.subject == VLM and len(request.commit_sha) == 40 and request.revision == "main"
    assert request.token == "hf_x" and request.offline is False and "config.json" in request.files
    assert cache.lookup(VLM, hf_token="hf_x").source is Source.STORE and len(seen) == 1


def test_custom_detector_errors_are_classified(hub, make_cache):
    import httpx2
    from huggingface_hub.errors import GatedRepoError

    def boom(request):
        raise RuntimeError("bug")

    def gated(request):
        raise GatedRepoError("no access", response=httpx2.Response(403, request=httpx2.Request("GET", "http://x")))

    def weird(request):
        return "yes"

    def mine(request):
        return Detection(Kind.VISION, "mine")

    cases = [(boom, Kind.UNKNOWN, "detector error: RuntimeError"), (gated, Kind.DENIED, "gated repository: 403"),
             (weird, Kind.UNKNOWN, "detector returned str"), (mine, Kind.VISION, "mine")]
    for i, (detector, kind, evidence) in enumerate(cases):
        hub.add_repo(f"someone/model-{i}", {"config.json": b"{}"})
        verdict = make_cache(detector=detector).lookup(f"someone/model-{i}")
        assert (verdict.kind, verdict.evidence.startswith(evidence)) == (kind, True), verdict.evidence


def test_example_custom_detector_runs():
    out = subprocess.run([sys.executable, "examples/custom_detector.py"], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent.parent).stdout
    assert out.startswith("vision detected | vision store")


def test_failure_table():
    import httpx2  # the transport huggingface_hub uses
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    def response(status):
        return httpx2.Response(status, request=httpx2.Request("GET", "http://127.0.0.1/x"))

    assert classify_exception(RepositoryNotFoundError("x", response=response(401))) == (
        Kind.DENIED, "repository not found or private: 401")
    assert classify_exception(RevisionNotFoundError("x", response=response(404)))[0] is Kind.DENIED
    from huggingface_hub.errors import HfHubHTTPError

    assert classify_exception(HfHubHTTPError("x", response=response(503))) == (Kind.UNKNOWN, "Hub error: HTTP 503")
    assert classify_exception(HfHubHTTPError("x", response=response(403)))[0] is Kind.DENIED
    assert classify_exception(HfHubHTTPError("x", response=response(429)))[0] is Kind.UNKNOWN
    assert classify_exception(OfflineModeIsEnabled("x"))[0] is Kind.UNKNOWN
    assert classify_exception(LocalEntryNotFoundError("x"))[0] is Kind.UNKNOWN
    assert classify_exception(TimeoutError())[0] is Kind.UNKNOWN
    assert classify_exception(ConnectionRefusedError())[0] is Kind.UNKNOWN
    assert classify_exception(httpx2.ConnectError("refused"))[0] is Kind.UNKNOWN
    assert classify_exception(SidecarError("crash"))[0] is Kind.UNKNOWN
    assert classify_exception(ValueError("bug"))[0] is Kind.UNKNOWN
    assert EntryNotFoundError  # a missing config.json is an answer (not_vision), decided where it is read


def test_transformers_tables_are_imported_once_per_install_not_once_per_process(hub, store_dir):
    """The first process stores a snapshot of the registry; the next detects without importing transformers."""
    from conftest import TEXT_LLM, TEXT_LLM_2

    publish(hub, TEXT_LLM)
    publish(hub, TEXT_LLM_2)
    code = ("import sys, vision_cache\n"
            f"v = vision_cache.VisionCache(directory={str(store_dir)!r}).lookup(sys.argv[1])\n"
            "print(v.kind.value, v.source.value, 'transformers' in sys.modules, '|', v.evidence)\n")
    import subprocess

    first = subprocess.run([sys.executable, "-c", code, TEXT_LLM], capture_output=True, text=True, check=True)
    assert first.stdout.startswith("not_vision detected True")
    second = subprocess.run([sys.executable, "-c", code, TEXT_LLM_2], capture_output=True, text=True, check=True)
    assert second.stdout.startswith("not_vision detected False"), second.stdout  # the snapshot answered
    assert "transformers registry" in second.stdout


def test_a_malformed_registry_snapshot_is_ignored(make_cache):
    from vision_cache.detect.registry import Registry, registry_source, transformers_registry
    from vision_cache.ledger import Keys

    cache = make_cache()
    real = transformers_registry()
    assert Registry.from_record(real.to_record()) == real
    for bad in ({"vision_types": "llava"}, {"vision_types": [1]}, [], None):
        assert Registry.from_record(bad) is None
    import vision_cache.detect.registry as registry_module

    key = Keys.registry(registry_module._transformers_identity())
    cache.store.set(key, {"vision_types": ["x"] * 3}, None)  # planted: missing fields -> ignored
    transformers_registry.cache_clear()  # as in a fresh process
    assert registry_source(cache.ledger.shared)() == real
    assert Registry.from_record(cache.store.get(key)) == real  # replaced by a good snapshot
