"""Verdict bundles: ``vision-cache export`` / ``import`` and :mod:`vision_cache.bundle` (issue 13).

A bundle seeds a fresh store from another one, so that its lookups need no detection; it comes
from elsewhere, so every line is hostile input until checked.
"""

from __future__ import annotations

import io
import json
import time
import tracemalloc

import pytest
from conftest import TEXT_LLM, VLM, VLM_2, publish

from vision_cache import Kind, Source, Verdict, VisionCache
from vision_cache.bundle import BUNDLE_SCHEMA, MAX_LINE, export_bundle, hub_subject, import_bundle, verdict_record
from vision_cache.ledger import Keys
from vision_cache.migrate import latest_version

TOKEN = "hf_bundleTestSecretToken0123456789abcdef"
SHA = "0123456789abcdef0123456789abcdef01234567"
NOW = time.time()


def header(**changes) -> dict:
    return {"schema": BUNDLE_SCHEMA, "store_schema": latest_version(), "created_at": NOW,
            "generator": "vision_cache test", **changes}


def record(**changes) -> dict:
    """A sound bundle record: a vision verdict of VLM at SHA."""
    verdict = Verdict(kind=Kind.VISION, source=Source.STORE, subject=VLM, revision="main", commit_sha=SHA,
                      created_at=NOW - 60, expires_at=None, detector="rules/4 transformers/5.0.0",
                      evidence="vision_config present")
    return {**verdict_record(verdict, scope="anonymous"), **changes}


def bundle_bytes(*lines: dict | bytes | str, first: dict | None = None) -> bytes:
    out = [json.dumps(first or header()).encode()]
    for line in lines:
        out.append(line if isinstance(line, bytes) else (line if isinstance(line, str) else json.dumps(line)).encode())
    return b"\n".join(out) + b"\n"


@pytest.fixture
def fresh(make_cache, tmp_path):
    """A fresh cache on its own store (disk folder or Redis namespace), for importing into."""
    return make_cache(directory=tmp_path / "fresh-store", redis_prefix=make_cache.redis_prefix + "fresh:")


# -- the round trip -------------------------------------------------------------------------------------


def test_round_trip_through_the_library_on_every_store(hub, make_cache, fresh):
    sha = publish(hub, VLM)
    source = make_cache()
    source.lookup(VLM)
    buffer = io.BytesIO()
    assert export_bundle(source.ledger, buffer).exported == 1
    buffer.seek(0)
    report = import_bundle(fresh.ledger, buffer)
    assert (report.taken, report.skipped, report.ok) == ({"new": 1}, {}, True)
    hub.reset_counts()
    assert fresh.lookup(VLM, revision=sha).source is Source.STORE
    assert hub.count() == 0


# -- conflicts and lifetimes ------------------------------------------------------------------------


def import_records(cache: VisionCache, *lines, **kwargs):
    return import_bundle(cache.ledger, io.BytesIO(bundle_bytes(*lines)), **kwargs)


def stored_verdicts(cache: VisionCache) -> list[Verdict]:
    return [e.verdict for e in cache.entries()]


def test_on_conflict_the_newer_detector_stands(fresh):
    older = record(kind="not_vision", is_vision=False, detector="rules/3 transformers/4.50.0", expires_at=NOW + 3600)
    assert import_records(fresh, older).taken == {"new": 1}
    newer = record(detector="rules/4 transformers/4.50.0")
    assert import_records(fresh, newer).taken == {"replaced": 1}
    [verdict] = stored_verdicts(fresh)
    assert (verdict.kind, verdict.detector) == (Kind.VISION, "rules/4 transformers/4.50.0")
    report = import_records(fresh, older)  # the older detector's answer never comes back
    assert (report.taken, report.skipped, report.ok) == ({}, {"kept_stored": 1}, True)
    assert import_records(fresh, newer).skipped == {"unchanged": 1}
    same_detector = record(kind="not_vision", is_vision=False, detector="rules/4 transformers/4.50.0",
                           expires_at=NOW + 3600)
    assert import_records(fresh, same_detector).skipped == {"kept_stored": 1}  # a tie keeps what is stored
    assert [v.kind for v in stored_verdicts(fresh)] == [Kind.VISION]


def test_a_negative_lives_no_longer_than_this_install_keeps_negatives(make_cache, tmp_path):
    cache = make_cache(directory=tmp_path / "fresh-store", negative_ttl=3600)
    created = NOW - 600
    import_records(cache, record(kind="not_vision", is_vision=False, created_at=created, expires_at=NOW + 10**8))
    [verdict] = stored_verdicts(cache)
    assert verdict.expires_at == pytest.approx(created + 3600)
    report = import_records(cache, record(subject=VLM_2, model=VLM_2, kind="not_vision", is_vision=False,
                                          created_at=NOW - 7200, expires_at=NOW + 10**8))
    assert report.skipped == {"expired": 1}  # over by this install's reckoning
    assert import_records(cache, record(subject=TEXT_LLM, model=TEXT_LLM, expires_at=NOW - 1)).skipped == {
        "expired": 1}


# -- hostile bundles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "reason"), [
    (record(kind="denied", is_vision=False, commit_sha=None), "denied"),
    (record(kind="unknown", is_vision=False), "kind"),
    (record(kind=["vision"]), "kind"),
    (record(scope="token:" + "0" * 32), "token_scope"),
    (record(scope="local"), "scope"),
    (record(scope=None), "scope"),
    (record(schema="vision_cache.verdict/2"), "schema"),
    (record(schema=None), "schema"),
    (record(question="audio"), "question"),
    (record(subject="/etc/passwd", model="/etc/passwd"), "subject"),
    (record(subject="../../outside", model="x"), "subject"),
    (record(subject="acme/\u212aelvin", model="x"), "subject"),
    (record(subject="a" * 300 + "/b"), "subject"),
    (record(detector="rules/4 $(rm -rf /)"), "detector"),
    (record(detector=4), "detector"),
    (record(commit_sha="main"), "invalid"),
    (record(commit_sha=None), "invalid"),
    (record(commit_sha=1234), "invalid"),
    (record(created_at="yesterday"), "invalid"),
    (record(created_at=True), "invalid"),
    (record(created_at=10**400), "invalid"),
    (record(created_at=NOW + 86400), "invalid"),
    (record(expires_at=-5), "invalid"),
    (record(is_vision="yes"), "invalid"),
    (record(is_vision=False), "invalid"),
    (record(evidence="\x1b]0;pwned\x07"), "invalid"),
    (record(evidence=["a list"]), "invalid"),
    (record(revision=7), "invalid"),
    (record(model=None), "invalid"),
    (record(source=None), "invalid"),
    ({k: v for k, v in record().items() if k != "detector"}, "invalid"),
    ({**record(), "extra": 1}, "invalid"),
    ([record()], "not_json"),
    ("not json at all", "not_json"),
    ('{"kind": NaN}', "not_json"),
    ("[" * 20_000 + "]" * 20_000, "not_json"),
    (b"\xff\xfe garbage", "not_json"),
])
def test_a_hostile_record_is_refused_and_nothing_is_written(fresh, line, reason):
    report = import_records(fresh, line)
    assert (report.taken, report.skipped, report.refused, report.ok) == ({}, {reason: 1}, 1, False)
    assert list(fresh.store.scan(Keys.family(Keys.VERDICT))) == []


@pytest.mark.parametrize(("first", "message"), [
    (header(schema="vision_cache.bundle/2"), "vision_cache.bundle/2, and this release reads vision_cache.bundle/1"),
    (header(schema="something.else/1"), "not a vision_cache bundle"),
    (header(store_schema=latest_version() + 1), "newer than this release"),
    (header(store_schema="2"), "no valid store_schema"),
    (record(), "not a vision_cache bundle"),
    ([header()], "not a vision_cache bundle"),
])
def test_an_unusable_bundle_is_refused_whole(fresh, first, message):
    with pytest.raises(ValueError, match="bundle") as refused:
        import_bundle(fresh.ledger, io.BytesIO(bundle_bytes(record(), first=first)))
    assert message in str(refused.value)
    assert fresh.entries() == []


def test_an_empty_bundle(fresh):
    for content in (b"", b"\n", b"x" * (MAX_LINE + 10) + b"\n" + bundle_bytes(record())):
        with pytest.raises(ValueError, match="not a vision_cache bundle"):
            import_bundle(fresh.ledger, io.BytesIO(content))
    assert fresh.entries() == []


def test_a_100_mb_line_is_skipped_without_holding_it_in_memory(fresh, tmp_path):
    path = tmp_path / "huge.jsonl"
    chunk = b"A" * (1 << 20)
    with open(path, "wb") as out:
        out.write(json.dumps(header()).encode() + b"\n")
        out.write(b'{"evidence": "')
        for _ in range(100):
            out.write(chunk)
        out.write(b'"}\n')
        out.write(json.dumps(record()).encode() + b"\n")
        out.write(b"B" * (MAX_LINE + 1))  # a last line, too long, without an end of line
    assert path.stat().st_size > 100 * (1 << 20)
    hub_subject(VLM)  # what the first record imports (huggingface_hub's rules) is not the line's memory
    assert import_records(fresh, record(subject=TEXT_LLM, model=TEXT_LLM)).taken == {"new": 1}
    tracemalloc.start()
    try:
        with open(path, "rb") as source:
            started = time.monotonic()
            report = import_bundle(fresh.ledger, source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.taken, report.skipped) == ({"new": 1}, {"too_long": 2})
    assert peak < 16 * MAX_LINE, peak  # a few lines' worth, not 100 MB
    assert time.monotonic() - started < 30
    assert sorted(v.subject for v in stored_verdicts(fresh)) == sorted([VLM, TEXT_LLM])


def test_a_line_of_exactly_the_limit_is_read(fresh):
    base = json.dumps(record(evidence="")).encode()
    padded = base.replace(b'"evidence":""', b'"evidence":"' + b"e" * 4096 + b'"')
    line = padded + b" " * (MAX_LINE - len(padded))  # JSON ignores trailing white space
    assert len(line) == MAX_LINE
    assert import_records(fresh, line).taken == {"new": 1}
    assert import_records(fresh, line + b" ").skipped == {"too_long": 1}


def test_a_bundle_subject_is_never_taken_for_a_local_path(fresh, tmp_path, monkeypatch):
    """A repo id that happens to name a folder here is still a Hub repo in a bundle."""
    (tmp_path / "acme" / "vlm").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert import_records(fresh, record(subject="acme/vlm", model="acme/vlm")).taken == {"new": 1}
    [verdict] = stored_verdicts(fresh)
    assert verdict.subject == "acme/vlm"
