"""What a host whose clock runs far ahead wrote (or what someone planted to look like it) is not believed.

- an alias ``fresh_until`` a day ahead: the revision is resolved again (an honest alias, fresh for
  less than ``alias_ttl``, is used without a request: the control);
- a verdict ``created_at`` in the future, a ``not_vision`` or a denial living far beyond its kind's
  lifetime: a miss, detected again (the same records with honest times are hits: the control);
- a lease left by a dead holder with an expiry a year ahead: a waiter re-arms it by its own clock,
  so the lookup detects by itself within about ``2 * lease_ttl``.

On the disk store and on Redis, against the loopback Hub stand-in.
"""

from __future__ import annotations

import time

import pytest
from conftest import AUDIO, VLM, config_bytes, publish

from vision_cache import Kind, Source
from vision_cache.ledger import Keys
from vision_cache.target import parse_subject
from vision_cache.verdict import Question

DAY = 86400.0
SUBJECT = parse_subject(VLM)


def _model_info_requests(hub) -> int:
    return hub.count(VLM, path_contains="/api/models/")


def test_an_alias_fresh_for_a_day_is_not_believed(hub, make_cache):
    old = publish(hub, VLM)
    cache = make_cache()
    assert cache.lookup(VLM).kind is Kind.VISION
    new = hub.commit(VLM, {"config.json": config_bytes(AUDIO)}, replace=True)  # main moves to an audio-only model
    key = Keys.alias(SUBJECT, "main", "anonymous")

    now = time.time()
    cache.store.set(key, {"sha": old, "resolved_at": now, "fresh_until": now + 60}, None)  # honest: within alias_ttl
    hub.reset_counts()
    # each lookup below is a new process's (a process trusts an alias it has read until its fresh_until)
    honest = make_cache().lookup(VLM)
    assert (honest.commit_sha, honest.source, _model_info_requests(hub)) == (old, Source.STORE, 0)

    cache.store.set(key, {"sha": old, "resolved_at": now, "fresh_until": now + DAY}, None)  # a clock a day ahead
    skewed = make_cache().lookup(VLM)
    assert (skewed.commit_sha, skewed.kind) == (new, Kind.NOT_VISION), skewed
    assert _model_info_requests(hub) == 1  # resolved again
    assert cache.store.get(key)["fresh_until"] <= time.time() + cache.settings.alias_ttl  # and repaired

    cache.store.set(key, {"sha": old, "resolved_at": now + DAY, "fresh_until": now + 60}, None)  # resolved "tomorrow"
    assert make_cache().lookup(VLM).commit_sha == new and _model_info_requests(hub) == 2


@pytest.mark.parametrize("skew", ["created-tomorrow", "not-vision-for-100-negative-ttls"])
def test_a_verdict_from_a_clock_far_ahead_is_a_miss(hub, make_cache, skew):
    sha = publish(hub, VLM)
    cache = make_cache()
    cache.lookup(VLM, revision=sha)
    key = Keys.verdict(SUBJECT, sha, "anonymous")
    record = cache.store.get(key)
    now = time.time()
    lie = {**record, "kind": "not_vision", "created_at": now, "expires_at": now + cache.settings.negative_ttl}

    cache.store.set(key, lie, None)  # the control: an honest not_vision is a hit
    assert (cache.lookup(VLM, revision=sha).kind, cache.lookup(VLM, revision=sha).source) == \
        (Kind.NOT_VISION, Source.STORE)

    skewed = {
        "created-tomorrow": {**lie, "created_at": now + DAY, "expires_at": now + DAY + cache.settings.negative_ttl},
        "not-vision-for-100-negative-ttls": {**lie, "expires_at": now + 100 * cache.settings.negative_ttl},
    }[skew]
    cache.store.set(key, skewed, None)
    verdict = cache.lookup(VLM, revision=sha)
    assert (verdict.kind, verdict.source) == (Kind.VISION, Source.DETECTED), verdict


def test_a_denial_living_far_beyond_denied_ttl_is_a_miss(hub, make_cache):
    publish(hub, VLM)
    cache = make_cache()
    now = time.time()
    denial = {"kind": "denied", "subject": VLM, "revision": "main", "commit_sha": None, "created_at": now,
              "expires_at": now + cache.settings.denied_ttl, "detector": cache.fingerprint,
              "evidence": "gated repository: 403", "question": "vision", "answer": False}
    key = Keys.denial(SUBJECT, "main", "anonymous", Question.VISION)
    cache.store.set(key, denial, None)  # the control: an honest denial is a hit
    assert cache.lookup(VLM).kind is Kind.DENIED
    cache.store.set(key, {**denial, "expires_at": now + 365 * DAY}, None)
    verdict = cache.lookup(VLM)
    assert (verdict.kind, verdict.source) == (Kind.VISION, Source.DETECTED), verdict


@pytest.mark.slow
@pytest.mark.parametrize("owner", ["4194303:" + "0" * 32, "dead-owner"])
def test_a_dead_holders_lease_a_year_ahead_delays_a_waiter_by_at_most_two_lease_periods(hub, make_cache, owner):
    publish(hub, VLM)
    lease_ttl = 1.0
    # Short Hub and sidecar budgets: a waiter that never takes over gives up after lease_ttl + both
    # (about 5 s) instead of a minute, so a regression fails fast.
    cache = make_cache(lease_ttl=lease_ttl, hub_timeout=2, sidecar_timeout=2)
    key = Keys.lease(SUBJECT, "main", "anonymous", Question.VISION)
    cache.store.set(key, owner, 3.15e7)  # written by the raw store API, as a dead process would have left it
    entry = next(e for k, _, e in cache.store.scan(Keys.family(Keys.LEASE)) if k == key)
    assert entry > time.time() + 300 * DAY

    started = time.monotonic()
    verdict = cache.lookup(VLM)
    took = time.monotonic() - started
    assert (verdict.kind, verdict.source) == (Kind.VISION, Source.DETECTED), verdict
    assert lease_ttl <= took < 2 * lease_ttl + 1.0, took  # it did wait for the holder, then took over
    assert cache.store.get(key) is None  # released: the next cold lookup waits for nobody
