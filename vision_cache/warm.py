"""Warm start at boot: migrate, drop expired entries, judge the models already on this machine.

The local Hugging Face cache names each snapshot folder by its commit sha, so every model already
downloaded can be judged with no network request, for every question (vision, audio type, and
embedding when a ``modules.json`` is there). docs/design.md, "Boot, upgrade, failure".

What is learnt is stored as **evidence of content** under the ``hf-cache`` scope, never as an answer
for an auth scope: files in a shared HF cache prove what a commit holds, not that the caller may
see the repo (one user may have downloaded a private or gated model). A later lookup confirms access
with one ``model_info`` request (or, offline, answers ``stale`` without storing), then adopts the
evidence instead of reading ``config.json`` and detecting again.

Interrupting a warm start (Ctrl-C) leaves the store consistent: every verdict is written in one
atomic store operation, and leases are released on the way out.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .errors import VisionCacheError

if TYPE_CHECKING:
    from .cache import VisionCache


_BATCH = 1000  # named models whose stored answers are read together


@dataclasses.dataclass
class WarmReport:
    schema_version: int = 0
    migrated: tuple[str, ...] = ()
    expired_dropped: int = 0
    snapshots: int = 0  # snapshots found in the local HF cache
    already_stored: int = 0  # ... whose verdict was already in the store
    detected: int = 0  # ... judged now from local files
    models: int = 0  # explicitly named models looked up
    failed: int = 0  # snapshots or models that could not be judged (unknown or invalid)
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class LocalSnapshot:
    repo_id: str
    commit_sha: str
    refs: tuple[str, ...]  # revision names pointing at this commit (e.g. "main")
    folder: str = dataclasses.field(default="", compare=False)  # its folder: models--org--name/snapshots/<sha>


def warm_start(cache: VisionCache, models: Any = (), *, scan_hf_cache: bool = True, hf_cache_dir: str | None = None,
               background: bool = False, progress: bool = False) -> Any:
    """Run a warm start on ``cache``; see the module docstring. Never raises for store or Hub failures."""
    if not background:
        return _run(cache, list(models), scan_hf_cache, hf_cache_dir, progress)
    future: Future[WarmReport] = Future()

    def target() -> None:
        try:
            future.set_result(_run(cache, list(models), scan_hf_cache, hf_cache_dir, progress))
        except BaseException as exc:  # surfaced through the future
            future.set_exception(exc)

    threading.Thread(target=target, name="vision_cache-warm-start", daemon=True).start()
    return future


def _run(cache: VisionCache, models: list[str], scan_hf_cache: bool, hf_cache_dir: str | None,
         progress: bool) -> WarmReport:
    from tqdm.auto import tqdm

    from .migrate import migrate, schema_version

    ledger = cache.ledger
    started = time.monotonic()
    report = WarmReport()
    result = ledger.guarded(lambda: migrate(ledger.store), None, "migration")
    report.migrated = result.applied if result else ()
    report.schema_version = ledger.guarded(lambda: schema_version(ledger.store), 0, "store read")
    report.expired_dropped = ledger.expire()
    snapshots = local_snapshots(hf_cache_dir) if scan_hf_cache else []
    report.snapshots = len(snapshots)
    work = [(True, s) for s in snapshots] + [(False, m) for m in models]
    stored: dict[str, Any] = {}  # the named models' stored answers, read a batch ahead
    read_up_to = 0
    for is_snapshot, item in tqdm(work, disable=not progress, unit="model", desc="vision-cache warm"):
        if is_snapshot:
            outcome = _judge_snapshot(cache, item, hf_cache_dir)
            report.already_stored += outcome == "stored"
            report.detected += outcome == "detected"
            report.failed += outcome == "failed"
        else:
            if report.models >= read_up_to:  # the next batch of named models: stored answers in a few reads
                stored = cache.stored_answers(models[read_up_to:read_up_to + _BATCH])
                read_up_to += _BATCH
            report.models += 1
            try:
                verdict = stored.pop(item, None)  # (a Verdict is falsy unless vision)
                if verdict is None:
                    verdict = cache.lookup(item)
            except VisionCacheError:
                report.failed += 1
                continue
            report.failed += verdict.kind.value == "unknown"
    report.seconds = time.monotonic() - started
    return report


def _judge_snapshot(cache: VisionCache, snapshot: LocalSnapshot, hf_cache_dir: str | None) -> str:
    """Judge a snapshot of the local HF cache with no request: "stored", "detected" or "failed" (vision)."""
    import os

    from .detect.detector import DetectionRequest, run_detector
    from .ledger import Keys
    from .target import Target, is_commit_sha, parse_revision, parse_subject, validate_hub_subject
    from .verdict import Question

    ledger = cache.ledger
    try:
        subject = parse_subject(snapshot.repo_id)  # folder names are hostile until checked
        validate_hub_subject(subject)
        sha = parse_revision(snapshot.commit_sha)
    except VisionCacheError:
        return "failed"
    if subject.is_local or not is_commit_sha(sha):
        return "failed"
    evidence = Target(subject, sha, Keys.HF_CACHE_SCOPE, None, True)  # no token: only local files are read
    outcome = "stored"
    if ledger.known(evidence, sha) is None:
        request = DetectionRequest(subject=subject.name, commit_sha=sha, revision=sha, token=None, offline=True,
                                   timeout=cache.settings.hub_timeout, hf_cache_dir=hf_cache_dir)
        detection = run_detector(cache.detectors[Question.VISION], request)
        if not detection.kind.is_answer:
            return "failed"
        ledger.record(evidence, sha, detection.kind, f"{detection.evidence} (local HF cache)", answer=detection.answer)
        outcome = "detected"
    # The other questions, from the snapshot's own files, and only where the file that decides them is
    # there (a snapshot may hold only some of a repo's files: no file proves no answer).
    for question, deciding in ((Question.AUDIO_TYPE, "tokenizer_config.json"), (Question.EMBEDDING, "modules.json")):
        if not snapshot.folder or not os.path.isfile(os.path.join(snapshot.folder, deciding)):
            continue
        asked = evidence._replace(question=question)
        if ledger.known(asked, sha) is not None:
            continue
        request = DetectionRequest(subject=subject.name, commit_sha=sha, revision=sha, token=None, offline=True,
                                   local_path=snapshot.folder, timeout=cache.settings.hub_timeout)
        detection = run_detector(cache.detectors[question], request)
        if detection.kind.is_answer:
            ledger.record(asked, sha, detection.kind, f"{detection.evidence} (local HF cache)",
                          answer=detection.answer)
    return outcome


def local_snapshots(hf_cache_dir: str | None = None) -> list[LocalSnapshot]:
    """Every model snapshot in the local HF cache (``HF_HUB_CACHE`` by default); [] if there is none.

    Reads the cache's documented layout and nothing more: ``models--<org>--<name>/snapshots/<sha>/``
    folders, and the files under ``refs/`` (a revision name, as a relative path, holding a commit
    sha). ``huggingface_hub.scan_cache_dir`` also stats every file of every snapshot (5 s for 10,000
    snapshots) for sizes and times that a warm start does not use. Unlike it, a repo it would call
    corrupted (a broken link, a stray file, a ref to a commit not cached) is still listed, snapshot by
    snapshot: each one is judged from its own files, and one that cannot be is counted as failed.
    tests/test_warm.py checks both agree on a cache written by ``hf_hub_download``.
    """
    import os

    if hf_cache_dir is None:
        from huggingface_hub.constants import HF_HUB_CACHE

        hf_cache_dir = HF_HUB_CACHE
    root = os.path.expanduser(hf_cache_dir)
    try:
        names = [entry.name for entry in os.scandir(root) if entry.name.startswith("models--")]
    except OSError:
        return []
    found: list[LocalSnapshot] = []
    for name in names:
        repo = os.path.join(root, name)
        try:
            shas = [entry.name for entry in os.scandir(os.path.join(repo, "snapshots")) if entry.is_dir()]
        except OSError:
            continue  # not a repo folder, or no snapshots
        refs = _refs_by_commit(os.path.join(repo, "refs"))
        repo_id = name[len("models--"):].replace("--", "/")
        found.extend(LocalSnapshot(repo_id, sha, tuple(sorted(refs.get(sha, ()))),
                                   os.path.join(repo, "snapshots", sha)) for sha in shas)
    return sorted(found, key=lambda snapshot: (snapshot.repo_id, snapshot.commit_sha))


def _refs_by_commit(refs_dir: str) -> dict[str, list[str]]:
    """``refs/``: commit sha -> the revision names (paths under ``refs/``, e.g. ``main``, ``refs/pr/1``)."""
    import os

    by_commit: dict[str, list[str]] = {}
    for folder, _, files in os.walk(refs_dir):
        for file in files:
            path = os.path.join(folder, file)
            try:
                with open(path, encoding="utf-8") as fh:
                    sha = fh.read(100)
            except (OSError, UnicodeDecodeError):
                continue
            by_commit.setdefault(sha, []).append(os.path.relpath(path, refs_dir).replace(os.sep, "/"))
    return by_commit
