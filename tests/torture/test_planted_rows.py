"""Hostile rows planted in a real store are misses: a lookup re-detects, and nothing raises.

Every case writes a real row: a diskcache row in ``cache.db`` (with sqlite3, in the mode given:
JSON text or pickle) or a raw Redis value under this test's own prefix, at a key built with
``vision_cache.ledger.Keys`` (the only owner of the layout). Each planted verdict *lies* (it says
the opposite of the truth) and carries one defect: a pickle, a wrong JSON type, a huge or
non-finite number, a negative time, control characters, a record of another family or question,
a verdict about another repo. The lookup must answer the truth, freshly detected, and
``entries()`` / ``stats()`` must not raise while the row is there. A control case proves that a
well-formed planted lie *is* read back, so the defects, not the planting, make the misses.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import AUDIO, REDIS_URL, VLM, config_bytes, delete_redis_prefix, require_redis

from vision_cache import Kind, Source, VisionCache
from vision_cache.hub import MemoryHub
from vision_cache.ledger import Keys
from vision_cache.target import parse_subject
from vision_cache.verdict import Question

MODE_RAW, MODE_PICKLE = 1, 4  # diskcache.core's modes: JSON text as vision_cache writes it, and a pickle
TRUTH = {VLM: "vision", AUDIO: "not_vision"}
LIE = {VLM: "not_vision", AUDIO: "vision"}
ANON = "anonymous"
LEASE_TTL = 1.0


class Text(str):
    """A stored value given as its exact text (JSON or not)."""


class Pickled(bytes):
    """A stored value given as pickle bytes."""


class Marker:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


class Planted(NamedTuple):
    cache: VisionCache
    hub: MemoryHub
    shas: dict[str, str]
    plant: Callable[[str, Any], None]
    backend: str
    fresh: Callable[[], VisionCache]  # another cache on the same store: a new process's view


def _encode(value: Any) -> tuple[int, Any]:
    if isinstance(value, Pickled):
        return MODE_PICKLE, sqlite3.Binary(bytes(value))
    if isinstance(value, Text):
        return MODE_RAW, str(value)
    return MODE_RAW, json.dumps(value)


def _disk_planter(directory: Path) -> Callable[[str, Any], None]:
    def plant(key: str, value: Any) -> None:
        mode, stored = _encode(value)
        db = sqlite3.connect(directory / "cache.db", timeout=10)
        try:
            with db:
                now = time.time()
                db.execute("DELETE FROM Cache WHERE key = ? AND raw = 1", (key,))
                db.execute("INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, "
                           "size, mode, filename, value) VALUES (?, 1, ?, NULL, ?, 0, NULL, 0, ?, NULL, ?)",
                           (key, now, now, mode, stored))
        finally:
            db.close()

    return plant


def _redis_planter(prefix: str) -> Callable[[str, Any], None]:
    import redis

    def plant(key: str, value: Any) -> None:
        mode, stored = _encode(value)
        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.set(prefix + key, bytes(stored) if mode == MODE_PICKLE else stored.encode("utf-8"))
        finally:
            client.close()

    return plant


@pytest.fixture(params=["disk", "redis"])
def planted(request, tmp_path):
    from uuid import uuid4

    hub = MemoryHub()
    shas = {model: hub.add_repo(model, {"config.json": config_bytes(model), "README.md": b"# card\n"})
            for model in (VLM, AUDIO)}
    prefix = f"vc-torture-{uuid4().hex}:"
    made: list[VisionCache] = []

    def fresh() -> VisionCache:
        if request.param == "redis":
            made.append(VisionCache(directory=tmp_path / "local", url=REDIS_URL, redis_prefix=prefix, hub=hub,
                                    memory_ttl=0, lease_ttl=LEASE_TTL))
        else:
            made.append(VisionCache(directory=tmp_path / "store", hub=hub, memory_ttl=0, lease_ttl=LEASE_TTL))
        return made[-1]

    if request.param == "redis":
        require_redis()
        plant = _redis_planter(prefix)
    else:
        plant = _disk_planter(tmp_path / "store")
    cache = fresh()
    assert cache.store.kind == request.param
    for model in (VLM, AUDIO):  # the truth, stored: an alias for "main" and a verdict per question
        for question in Question:
            cache.lookup(model, question=question)
    yield Planted(cache, hub, shas, plant, request.param, fresh)
    for opened in made:
        opened.close()
    if request.param == "redis":
        delete_redis_prefix(prefix)


def _key(model: str, sha: str, question: Question = Question.VISION) -> str:
    return Keys.verdict(parse_subject(model), sha, ANON, question)


def _good(planted: Planted, model: str, question: Question = Question.VISION) -> dict:
    record = planted.cache.store.get(_key(model, planted.shas[model], question))
    assert isinstance(record, dict), record
    return record


def _survey(planted: Planted) -> None:
    """What an operator runs must not raise, whatever the store holds."""
    assert isinstance(planted.cache.entries(), list)
    assert isinstance(planted.cache.stats()["entries"], dict)


def _json_with(record: dict, field: str, literal: str) -> Text:
    """``record`` as JSON text with ``field`` set to a literal Python's json would never write."""
    return Text(json.dumps({**record, field: "@@"}).replace('"@@"', literal))


# Each case turns a well-formed lie into a hostile row.
HOSTILE: dict[str, Callable[[dict, str], Any]] = {
    # not JSON at all
    "pickle-of-the-record": lambda lie, sha: Pickled(pickle.dumps(lie)),
    "pickle-that-runs-code": lambda lie, sha: Pickled(pickle.dumps(Marker())),
    "not-json-text": lambda lie, sha: Text("vision, trust me"),
    "json-nested-too-deep": lambda lie, sha: Text("[" * 50_000 + "]" * 50_000),
    # wrong JSON types
    "a-list": lambda lie, sha: [lie],
    "a-string": lambda lie, sha: lie["kind"],
    "a-number": lambda lie, sha: 1,
    "kind-is-a-number": lambda lie, sha: {**lie, "kind": 1},
    "kind-is-a-list": lambda lie, sha: {**lie, "kind": [lie["kind"]]},
    "kind-unknown": lambda lie, sha: {**lie, "kind": "unknown"},
    "subject-is-a-number": lambda lie, sha: {**lie, "subject": 7},
    "subject-missing": lambda lie, sha: {k: v for k, v in lie.items() if k != "subject"},
    "evidence-is-a-list": lambda lie, sha: {**lie, "evidence": ["planted"]},
    "detector-is-an-object": lambda lie, sha: {**lie, "detector": {"rules": 4}},
    "revision-is-a-number": lambda lie, sha: {**lie, "revision": 5},
    "commit-sha-is-a-number": lambda lie, sha: {**lie, "commit_sha": 123},
    "commit-sha-upper-case": lambda lie, sha: {**lie, "commit_sha": sha.upper()},
    "created-at-is-text": lambda lie, sha: {**lie, "created_at": "2024-01-01T00:00:00Z"},
    "created-at-is-a-bool": lambda lie, sha: {**lie, "created_at": True},
    "expires-at-is-a-bool": lambda lie, sha: {**lie, "expires_at": True},
    # huge numbers
    "created-at-1e18": lambda lie, sha: {**lie, "created_at": 1e18},
    "created-at-10**400-as-text": lambda lie, sha: _json_with(lie, "created_at", "1" + "0" * 400),
    "created-at-1e999-as-text": lambda lie, sha: _json_with(lie, "created_at", "1e999"),
    "expires-at-1e18": lambda lie, sha: {**lie, "expires_at": 1e18},
    "expires-at-10**400-as-text": lambda lie, sha: _json_with(lie, "expires_at", "1" + "0" * 400),
    # negative and NaN-ish times
    "created-at-negative": lambda lie, sha: {**lie, "created_at": -1.0},
    "created-at-nan": lambda lie, sha: _json_with(lie, "created_at", "NaN"),
    "created-at-minus-infinity": lambda lie, sha: _json_with(lie, "created_at", "-Infinity"),
    "expires-at-nan": lambda lie, sha: _json_with(lie, "expires_at", "NaN"),
    "expires-at-infinity": lambda lie, sha: _json_with(lie, "expires_at", "Infinity"),
    "expires-before-created": lambda lie, sha: {**lie, "expires_at": lie["created_at"] - 1},
    "expired": lambda lie, sha: {**lie, "expires_at": time.time() - 1},
    # control characters and oversized text
    "evidence-with-esc": lambda lie, sha: {**lie, "evidence": "\x1b[2J\x1b[31mplanted"},
    "evidence-with-bel": lambda lie, sha: {**lie, "evidence": "planted\x07"},
    "subject-with-esc": lambda lie, sha: {**lie, "subject": lie["subject"] + "\x1b[0m"},
    "detector-with-newline": lambda lie, sha: {**lie, "detector": lie["detector"] + "\nplanted"},
    "evidence-of-5000-chars": lambda lie, sha: {**lie, "evidence": "x" * 5000},
    # a record that is not about this key
    "subject-names-another-repo": lambda lie, sha: {**lie, "subject": "someone-else/other-model"},
    "commit-sha-of-another-commit": lambda lie, sha: {**lie, "commit_sha": "0" * 40},
    "a-denial-under-a-commit": lambda lie, sha: {**lie, "kind": "denied", "commit_sha": None},
    "question-says-audio": lambda lie, sha: {**lie, "question": "audio_type"},
    "question-says-embedding": lambda lie, sha: {**lie, "question": "embedding"},
    "question-is-a-number": lambda lie, sha: {**lie, "question": 1},
    "an-audio-record": lambda lie, sha: {**lie, "kind": "positive", "answer": "whisper", "question": "audio_type"},
    "an-audio-record-without-question": lambda lie, sha: {
        **{k: v for k, v in lie.items() if k != "question"}, "kind": "positive", "answer": "whisper"},
    "an-alias-record": lambda lie, sha: {"sha": sha, "resolved_at": time.time(), "fresh_until": time.time() + 60},
}


def test_a_well_formed_planted_lie_is_read_back(planted):
    """The control: planting works, so a miss below is the defect's doing."""
    for model in (VLM, AUDIO):
        sha = planted.shas[model]
        planted.plant(_key(model, sha), {**_good(planted, model), "kind": LIE[model]})
        verdict = planted.cache.lookup(model, revision=sha)
        assert (verdict.kind.value, verdict.source) == (LIE[model], Source.STORE)


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_verdict_row_is_re_detected(planted, case, tmp_path):
    Marker.path = str(tmp_path / "unpickled")
    for model in (VLM, AUDIO):
        sha = planted.shas[model]
        lie = {**_good(planted, model), "kind": LIE[model]}
        for revision in (sha, None):  # by commit (one read), and by name (through the alias)
            planted.plant(_key(model, sha), HOSTILE[case](lie, sha))
            _survey(planted)
            verdict = planted.cache.lookup(model, revision=revision)
            assert (verdict.kind.value, verdict.source) == (TRUTH[model], Source.DETECTED), (case, verdict)
            assert verdict.evidence.isprintable() and verdict.subject == model
    assert not os.path.exists(Marker.path)
    listed = [e for e in planted.cache.entries(question="vision")]
    assert sorted((e.verdict.subject, e.verdict.kind.value) for e in listed) == sorted(TRUTH.items())


# -- records of one family under another's key ---------------------------------------------------------


def test_a_vision_record_under_the_audio_and_embedding_families_is_a_miss(planted):
    for model in (VLM, AUDIO):
        sha = planted.shas[model]
        vision = _good(planted, model)
        for question in (Question.AUDIO_TYPE, Question.EMBEDDING):
            truth = _good(planted, model, question)
            for record in (vision, {k: v for k, v in vision.items() if k != "question"}):
                planted.plant(_key(model, sha, question), record)
                _survey(planted)
                verdict = planted.cache.lookup(model, revision=sha, question=question)
                assert verdict.source is Source.DETECTED, (question, verdict)
                assert (verdict.kind.value, verdict.answer) == (truth["kind"], truth["answer"])


def test_an_audio_record_under_the_embedding_family_is_a_miss(planted):
    """Same kinds (positive / negative), other question: the question field must decide."""
    sha = planted.shas[AUDIO]
    audio = _good(planted, AUDIO, Question.AUDIO_TYPE)
    assert audio["kind"] == "positive"  # Qwen2-Audio: audio_vlm
    planted.plant(_key(AUDIO, sha, Question.EMBEDDING), audio)
    verdict = planted.cache.lookup(AUDIO, revision=sha, question="embedding")
    assert (verdict.kind, verdict.answer, verdict.source) == (Kind.NEGATIVE, False, Source.DETECTED)


@pytest.mark.parametrize("answer", [["audio_vlm"], {"type": "audio_vlm"}, "not-an-audio-type", 1, None])
def test_a_hostile_audio_answer_is_a_miss(planted, answer):
    """The audio family stores its answer (a type name): anything but a known type is a miss."""
    sha = planted.shas[AUDIO]
    planted.plant(_key(AUDIO, sha, Question.AUDIO_TYPE), {**_good(planted, AUDIO, Question.AUDIO_TYPE),
                                                          "answer": answer})
    _survey(planted)
    verdict = planted.cache.lookup(AUDIO, revision=sha, question="audio_type")
    assert (verdict.kind, verdict.answer, verdict.source) == (Kind.POSITIVE, "audio_vlm", Source.DETECTED)


@pytest.mark.parametrize("record", ["verdict", "alias-a-day-fresh", "alias-bad-sha", "alias-nan"])
def test_a_hostile_alias_row_is_resolved_again(planted, record):
    for model in (VLM, AUDIO):
        sha = planted.shas[model]
        now = time.time()
        payload = {
            "verdict": _good(planted, model),
            "alias-a-day-fresh": {"sha": "0" * 40, "resolved_at": now, "fresh_until": now + 86400},
            "alias-bad-sha": {"sha": "zz" * 20, "resolved_at": now, "fresh_until": now + 60},
            "alias-nan": _json_with({"sha": "0" * 40, "resolved_at": now}, "fresh_until", "NaN"),
        }[record]
        planted.plant(Keys.alias(parse_subject(model), "main", ANON), payload)
        _survey(planted)
        before = len([c for c in planted.hub.calls if c == ("repo_state", model)])
        cache = planted.fresh()  # a new process (one trusts an alias it has read until its fresh_until)
        verdict = cache.lookup(model)
        assert verdict.kind.value == TRUTH[model] and verdict.commit_sha == sha, verdict
        assert len([c for c in planted.hub.calls if c == ("repo_state", model)]) == before + 1  # resolved again
        assert cache.ledger.alias(cache._parse(model, None, None)[0]).sha == sha  # repaired


@pytest.mark.parametrize("owner", ["a-verdict-record", "null", "nan", "not-json", "an-owner-spelt-oddly"])
def test_a_hostile_lease_row_never_holds_a_lookup(planted, owner):
    """A lease key holding what no process writes (for good: no expiry) delays a cold lookup by
    at most about two lease periods, then the lookup detects itself."""
    fake_owner = "4194303:" + "0" * 32  # the shape of a real owner token (pid:hex)
    payload = {
        "a-verdict-record": _good(planted, VLM),
        "null": Text("null"),
        "nan": Text("NaN"),
        "not-json": Text("dead-owner"),
        "an-owner-spelt-oddly": Text('"' + fake_owner.replace("0", "\\u0030") + '"'),  # JSON for the same str
    }[owner]
    planted.cache.purge(VLM)
    planted.plant(Keys.lease(parse_subject(VLM), "main", ANON, Question.VISION), payload)
    started = time.monotonic()
    verdict = planted.cache.lookup(VLM)
    took = time.monotonic() - started
    assert (verdict.kind, verdict.source) == (Kind.VISION, Source.DETECTED), verdict
    assert took < 2 * LEASE_TTL + 1.0, took


@pytest.mark.parametrize("value", ["text", "10**400", "nan", "an-object", "a-pickle"])
def test_hostile_counters_never_break_stats(planted, value):
    payload = {"text": "many", "10**400": Text("1" + "0" * 400), "nan": Text("NaN"), "an-object": {"n": 1},
               "a-pickle": Pickled(pickle.dumps(3))}[value]
    for name in ("hits_store", "misses", "detections"):
        planted.plant(Keys.counter(name), payload)
    for _ in range(3):
        planted.cache.lookup(VLM)
    planted.cache.ledger.flush_counts()
    stats = planted.cache.stats()
    assert all(type(n) is int and n >= 0 for n in stats["counters"].values()), stats["counters"]
    assert stats["entries"]["vision"] == {"vision": 1, "not_vision": 1}


def test_every_hostile_row_at_once_leaves_ls_and_stats_working(planted):
    """All the cases above planted side by side, under made-up models: listing skips the bad ones."""
    sha = planted.shas[VLM]
    lie = {**_good(planted, VLM), "kind": LIE[VLM]}
    for n, case in enumerate(HOSTILE):
        subject = parse_subject(f"planted/model-{n}")
        planted.plant(Keys.verdict(subject, sha, ANON), HOSTILE[case](lie, sha))
        planted.plant(Keys.verdict(subject, sha, ANON, Question.AUDIO_TYPE), HOSTILE[case](lie, sha))
        planted.plant(Keys.alias(subject, "main", ANON), HOSTILE[case](lie, sha))
    entries = planted.cache.entries()
    for entry in entries:  # what is listed decoded cleanly: printable, finite, of its family's kinds
        v = entry.verdict
        assert v.subject.isprintable() and v.evidence.isprintable() and v.detector.isprintable()
        assert math.isfinite(v.created_at) and (v.expires_at is None or math.isfinite(v.expires_at))
    stats = planted.cache.stats()
    assert stats["entries"]["vision"]["vision"] >= 1
    assert planted.cache.purge(everything=True) >= len(HOSTILE)  # and an operator can clear them
