"""Verdict bundles: ``vision-cache export`` / ``import`` and :mod:`vision_cache.bundle` (issue 13).

A bundle seeds a fresh store from another one, so that its lookups need no detection; it comes
from elsewhere, so every line is hostile input until checked.
"""

from __future__ import annotations

import io
import json
import os
import time
import tracemalloc

import pytest
from conftest import TEXT_LLM, VLM, VLM_2, publish
from test_cli import _restore_environment, check_record  # noqa: F401 - the autouse fixture applies here too

import vision_cache
from vision_cache import Kind, Source, Verdict, VisionCache, cli
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


def cli_run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fresh(make_cache, tmp_path):
    """A fresh cache on its own store (disk folder or Redis namespace), for importing into."""
    return make_cache(directory=tmp_path / "fresh-store", redis_prefix=make_cache.redis_prefix + "fresh:")


# -- the round trip -------------------------------------------------------------------------------------


def test_export_then_import_seeds_a_fresh_store_with_no_hub_request(hub, tmp_path, capsys):
    """Two commands pre-seed a machine; its lookups then need no Hub request at all (by commit sha)
    and no detection (by name: one revision resolution, no config.json)."""
    shas = {VLM: publish(hub, VLM), TEXT_LLM: publish(hub, TEXT_LLM)}
    publish(hub, VLM_2, gated_tokens={TOKEN})
    local_model = tmp_path / "local-model"
    local_model.mkdir()
    (local_model / "config.json").write_text(json.dumps({"model_type": "llava", "vision_config": {}}))
    source, seeded, bundle = tmp_path / "source", tmp_path / "seeded", tmp_path / "verdicts.jsonl"
    with VisionCache(directory=source, memory_ttl=0) as cache:
        assert cache.lookup(VLM).kind is Kind.VISION
        assert cache.lookup(TEXT_LLM).kind is Kind.NOT_VISION
        assert cache.lookup(VLM_2).kind is Kind.DENIED  # anonymous: gated
        assert cache.lookup(VLM_2, hf_token=TOKEN).kind is Kind.VISION  # under the token's scope
        cache.lookup(str(local_model))  # local

    code, out, err = cli_run(capsys, "export", str(bundle), "--dir", str(source))
    assert code == 0, err
    assert out == "exported 2 verdicts; left out 3: 1 denied, 1 local, 1 token_scope\n"
    head, *lines = bundle.read_text().splitlines()
    head = json.loads(head)
    assert head == {"schema": "vision_cache.bundle/1", "store_schema": latest_version(),
                    "created_at": head["created_at"], "generator": f"vision_cache {vision_cache.__version__}"}
    records = [check_record(json.loads(line)) for line in lines]
    assert [(r["subject"], r["kind"], r["commit_sha"], r["scope"]) for r in records] == sorted(
        [(VLM, "vision", shas[VLM], "anonymous"), (TEXT_LLM, "not_vision", shas[TEXT_LLM], "anonymous")],
        key=lambda r: r[0].lower())
    assert all(r["detector"].startswith("rules/") for r in records)
    text = bundle.read_text()
    assert TOKEN not in text and str(local_model) not in text and "token:" not in text

    code, out, err = cli_run(capsys, "import", str(bundle), "--dir", str(seeded))
    assert (code, out) == (0, "imported 2 verdicts (2 new)\n"), err
    hub.reset_counts()
    with VisionCache(directory=seeded, memory_ttl=0) as cache:
        for model, kind in ((VLM, Kind.VISION), (TEXT_LLM, Kind.NOT_VISION)):
            verdict = cache.lookup(model, revision=shas[model])
            assert (verdict.kind, verdict.source) == (kind, Source.STORE)
        assert hub.count() == 0
        assert cache.lookup(VLM).source is Source.STORE  # by name: the revision is resolved ...
        assert hub.count(path_contains="config.json") == 0  # ... but nothing is detected
        assert {e.scope for e in cache.entries()} == {"anonymous"}
        assert cache.lookup(VLM_2, hf_token=TOKEN).source is Source.DETECTED  # the token's answer did not travel

    code, out, _ = cli_run(capsys, "import", "--json", str(bundle), "--dir", str(seeded))
    assert code == 0
    assert json.loads(out) == {"imported": 0, "taken": {}, "skipped": {"unchanged": 2}, "refused": 0,
                               "dry_run": False}


def test_export_one_model_to_standard_output_and_import_from_standard_input(hub, tmp_path, capsys, monkeypatch):
    publish(hub, VLM)
    publish(hub, TEXT_LLM)
    source = tmp_path / "source"
    with VisionCache(directory=source, memory_ttl=0) as cache:
        cache.lookup(VLM)
        cache.lookup(TEXT_LLM)
    code, out, err = cli_run(capsys, "export", "--model", VLM.upper(), "-", "--dir", str(source))
    assert code == 0 and err == "exported 1 verdicts\n"  # the report goes to stderr: stdout is the bundle
    assert [json.loads(line)["subject"] for line in out.splitlines()[1:]] == [VLM]

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(out.encode())))
    code, out, err = cli_run(capsys, "import", "--dry-run", "-", "--dir", str(tmp_path / "seeded"))
    assert (code, out) == (0, "would import 1 verdicts (1 new)\n")
    assert cli_run(capsys, "ls", "--json", "--dir", str(tmp_path / "seeded"))[1] == "[]\n"  # dry run: nothing written


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
def test_an_unusable_bundle_is_refused_whole(fresh, tmp_path, capsys, first, message):
    path = tmp_path / "bundle.jsonl"
    path.write_bytes(bundle_bytes(record(), first=first))
    code, out, err = cli_run(capsys, "import", str(path), "--dir", str(tmp_path / "fresh-store"))
    assert (code, out) == (2, "") and err.startswith("error: ") and message in err and err.count("\n") == 1
    with pytest.raises(ValueError, match="bundle"):
        import_bundle(fresh.ledger, io.BytesIO(bundle_bytes(record(), first=first)))
    assert fresh.entries() == []


def test_an_empty_or_missing_bundle(fresh, tmp_path, capsys):
    for content in (b"", b"\n", b"x" * (MAX_LINE + 10) + b"\n" + bundle_bytes(record())):
        with pytest.raises(ValueError, match="not a vision_cache bundle"):
            import_bundle(fresh.ledger, io.BytesIO(content))
    code, _, err = cli_run(capsys, "import", str(tmp_path / "nowhere.jsonl"), "--dir", str(tmp_path / "s"))
    missing = tmp_path / "nowhere.jsonl"
    assert code == 2 and err == f"error: cannot read {missing}: No such file or directory\n"
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


def test_import_reports_refusals_and_exits_1(fresh, tmp_path, capsys):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(bundle_bytes(record(), record(kind="denied", is_vision=False, commit_sha=None),
                                  record(scope="token:" + "1" * 32), "", "garbage"))
    code, out, err = cli_run(capsys, "import", str(path), "--dir", str(tmp_path / "fresh-store"))
    assert code == 1, err
    assert out == "imported 1 verdicts (1 new); skipped 3: 1 denied, 1 not_json, 1 token_scope\n"
    code, out, _ = cli_run(capsys, "import", "--json", str(path), "--dir", str(tmp_path / "fresh-store"))
    assert code == 1
    assert json.loads(out) == {"imported": 0, "taken": {}, "refused": 3, "dry_run": False,
                               "skipped": {"unchanged": 1, "denied": 1, "token_scope": 1, "not_json": 1}}


def test_export_never_writes_a_half_bundle(hub, tmp_path, capsys):
    publish(hub, VLM)
    with VisionCache(directory=tmp_path / "source", memory_ttl=0) as cache:
        cache.lookup(VLM)
    code, _, err = cli_run(capsys, "export", str(tmp_path / "no-such-folder" / "b.jsonl"),
                           "--dir", str(tmp_path / "source"))
    assert code == 2 and err.startswith("error: cannot write ")
    target = tmp_path / "b.jsonl"
    assert cli_run(capsys, "export", str(target), "--dir", str(tmp_path / "source"))[0] == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("b.jsonl")] == ["b.jsonl"]
    assert os.access(target, os.R_OK) and len(target.read_text().splitlines()) == 2


def test_a_bundle_subject_is_never_taken_for_a_local_path(fresh, tmp_path, monkeypatch):
    """A repo id that happens to name a folder here is still a Hub repo in a bundle."""
    (tmp_path / "acme" / "vlm").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert import_records(fresh, record(subject="acme/vlm", model="acme/vlm")).taken == {"new": 1}
    [verdict] = stored_verdicts(fresh)
    assert verdict.subject == "acme/vlm"
