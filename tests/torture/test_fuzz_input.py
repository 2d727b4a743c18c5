"""Fuzzed input: names, revisions, tokens, gguf variants and questions, valid or not, of any type.

For every example ``VisionCache.lookup`` either answers a :class:`Verdict` or raises one of the
typed input errors (a :class:`vision_cache.VisionCacheError` subclass, never showing the token);
for bad input nothing is written to the store (its keys and values are unchanged); and
``is_vision_model`` returns a bool and never raises. The Hub is a ``MemoryHub`` (no HTTP) holding a
few repos, so valid names reach every step of the pipeline. Bounded: ``max_examples`` per test.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vision_cache import Verdict, VisionCache
from vision_cache.errors import (
    InvalidModelNameError,
    InvalidQuestionError,
    InvalidRevisionError,
    InvalidTokenError,
    InvalidVariantError,
    LocalModelNotFoundError,
    VisionCacheError,
)
from vision_cache.hub import MemoryHub
from vision_cache.verdict import Question

EXAMPLES = 300
TYPED = (InvalidModelNameError, LocalModelNotFoundError, InvalidRevisionError, InvalidTokenError, InvalidVariantError,
         InvalidQuestionError)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

hub = MemoryHub()
SHAS = {
    "fuzz/vlm": hub.add_repo("Fuzz/VLM", {"config.json": b'{"model_type": "fz", "architectures": '
                                                         b'["FzForConditionalGeneration"], "vision_config": {}}'}),
    "fuzz/text": hub.add_repo("fuzz/text", {"config.json": b'{"model_type": "gemma3_text", '
                                                          b'"architectures": ["Gemma3ForCausalLM"]}'}),
    "fuzz/gated": hub.add_repo("fuzz/gated", {"config.json": b"{}"}, gated_for={"hf_" + "g" * 34}),
    "fuzz/private": hub.add_repo("fuzz/private", {"config.json": b"{}"}, private_for={"hf_" + "p" * 34}),
}
KNOWN = ["Fuzz/VLM", "fuzz/vlm", "FUZZ/TEXT", "fuzz/text", "fuzz/gated", "fuzz/private", "fuzz/missing"]

anything = st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=8), st.booleans(),
                     st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(),
                                                                                 max_size=1))
names = st.one_of(
    st.sampled_from(KNOWN),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}/[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True),
    st.builds(lambda a, b: f"{a}/{b}", st.text(max_size=12), st.text(max_size=12)),
    st.text(max_size=40),
    st.sampled_from(["", " fuzz/vlm", "fuzz/vlm\n", "fuzz//vlm", "fuzz/vlm/extra", "a/" + "b" * 5000,
                     "/no/such/dir-9f2c", "./no-such-dir-9f2c", "~/no-such-dir-9f2c", "../no-such-dir-9f2c",
                     "fuzz/\x1b[31mred", "fuzz/vlm\x00", "ﬀuzz/vlm", "\u212aelvin/model", "a--b/c", "a/b..c"]),
    anything,
)
revisions = st.one_of(
    st.none(),
    st.sampled_from(["main", "v1.0", "refs/heads/main", "refs/pr/1", *SHAS.values(), "0" * 40, "A" * 40,
                     "../main", "main.lock", "/main", "ma in", "main\x00", "main/"]),
    st.from_regex(r"[0-9a-f]{40}", fullmatch=True),
    st.text(max_size=30),
    anything,
)
tokens = st.one_of(
    st.none(),
    st.sampled_from(["hf_" + "g" * 34, "hf_" + "p" * 34, "hf_\udc80", "hf_caf\u00e9", " hf_spaced ", "\n"]),
    st.from_regex(r"hf_[A-Za-z0-9]{34}", fullmatch=True),
    st.text(max_size=40),
    anything,
)
variants = st.one_of(st.none(), st.sampled_from(["Q4_K_M", "UD-Q4_K_XL", "../x", "a/b", "a\\b", "", "Q4\x00"]),
                     st.text(max_size=20), anything)
questions = st.one_of(st.sampled_from(["vision", "audio_type", "embedding", *Question]), st.text(max_size=15),
                      anything)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cache for the module (its store grows as the examples run, as a real one does); the
    working directory is an empty folder, so relative names meet no real file by chance."""
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("empty-cwd"))
    made = VisionCache(directory=tmp_path_factory.mktemp("fuzz") / "store", hub=hub, memory_ttl=0,
                       lease_ttl=1, hub_timeout=2)
    yield made
    made.close()
    os.chdir(cwd)


def _snapshot(cache: VisionCache) -> dict:
    cache.ledger.flush_counts()  # pending counts of earlier lookups are not this example's writes
    return {key: (value, expires) for key, value, expires in cache.store.scan("")}


def _unchanged(before: dict, after: dict) -> bool:
    """Nothing written: no new key, and every key still there holds the same value and expiry
    (a key may be gone: a short-lived lease or outcome of an earlier example expiring is no write)."""
    return all(key in before and before[key] == entry for key, entry in after.items())


@FUZZ
@given(name=names, revision=revisions, token=tokens, variant=variants, question=questions,
       offline=st.booleans())
def test_lookup_answers_or_raises_a_typed_error_and_bad_input_writes_nothing(cache, name, revision, token,
                                                                            variant, question, offline):
    before = _snapshot(cache)
    try:
        verdict = cache.lookup(name, token, offline, revision, question=question, gguf_variant=variant)
    except VisionCacheError as exc:
        assert isinstance(exc, TYPED), repr(exc)
        assert isinstance(exc, ValueError)
        if isinstance(token, str) and len(token.strip()) >= 4:
            assert token.strip() not in str(exc)
        after = _snapshot(cache)
        assert _unchanged(before, after), sorted(set(after) - set(before))
    else:
        assert isinstance(verdict, Verdict) and verdict.evidence.isprintable()
    answer = cache.is_vision_model(name, token, offline, revision, variant,
                                   require_image=not offline)
    assert type(answer) is bool


@FUZZ
@given(name=names, revision=revisions, token=tokens, variant=variants, question=questions)
# Names that pass the cheap checks but not huggingface_hub's rules, with the first token the store
# ever sees: its secret used to be created (a write) before the name was refused.
@example(name="a--b/c", revision=None, token="hf_" + "x" * 34, variant=None, question="vision")
@example(name="ab/-c", revision="main", token="hf_" + "y" * 34, variant=None, question="embedding")
def test_bad_input_writes_nothing_to_a_fresh_store(tmp_path_factory, name, revision, token, variant, question):
    """On a store that has never been used (no secret, no schema yet), bad input leaves no key behind."""
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("empty-cwd"))
    fresh = VisionCache(directory=tmp_path_factory.mktemp("fresh") / "store", hub=hub, memory_ttl=0)
    try:
        before = _snapshot(fresh)
        try:
            fresh.lookup(name, token, False, revision, question=question, gguf_variant=variant)
        except VisionCacheError as exc:
            assert isinstance(exc, TYPED), repr(exc)
            assert _unchanged(before, _snapshot(fresh)), sorted(set(_snapshot(fresh)) - set(before))
    finally:
        fresh.close()
        os.chdir(cwd)
