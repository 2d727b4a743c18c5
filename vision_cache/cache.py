"""VisionCache: the lookup path, top to bottom, over a shared store.

A lookup is:

1. parse the name (Hub repo id or local path), the revision and the effective token;
2. find the content version: an explicit commit sha, a fresh alias (revision name -> sha), or
   for a local model the digest of the files that decide its verdict;
3. return the verdict stored under (subject, version, auth scope) if it is still good (a stored
   verdict proves its name passed the Hub's rules when it was written);
4. otherwise detect once across all processes (a lease on the key): the process holding the lease
   checks the name with huggingface_hub's rules, detects, stores; the others wait for its verdict.

Nothing on steps 1-3 imports huggingface_hub or transformers, or touches the network.
Bad input raises (:mod:`.errors`); a failing store, Redis or Hub never does.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from . import keys
from ._log import logger
from .counters import Counters
from .errors import VisionCacheError
from .keys import Subject
from .lease import DEFAULT_LEASE_TTL
from .settings import Settings
from .stores.base import Store, StoreError
from .stores.memory import MemoryStore
from .verdict import Kind, Source, Verdict

STALE_WINDOW = 30 * 24 * 3600.0  # an expired alias is kept this long, to answer when the Hub is unreachable
MEMORY_TTL = 1.0  # another process's purge is seen here within this many seconds
_WAIT_POLL = 0.05


def default_directory() -> str:
    """The per-user cache folder (``~/.cache/vision_cache`` on Linux)."""
    import platformdirs

    return platformdirs.user_cache_dir("vision_cache", appauthor=False)


class Entry(NamedTuple):
    """A stored verdict as ``vision-cache ls`` shows it."""

    verdict: Verdict
    version: str  # the commit sha / local digest, or "@revision" for a denial
    scope: str  # "anonymous", "local" or "token:<fingerprint>"


class _Target(NamedTuple):
    """What a lookup is about: everything needed to key, detect and report it."""

    subject: Subject
    revision: str
    scope: str
    token: str | None
    offline: bool


class VisionCache:
    """A persistent, shared cache of "is this model a vision-language model?" verdicts.

    Args:
        directory: store folder (default ``VISION_CACHE_DIR``, else the platformdirs user cache folder).
        url: ``redis://...`` to keep the store in Redis (default ``VISION_CACHE_URL``).
        negative_ttl: seconds a ``not_vision`` verdict is kept (default 7 days).
        denied_ttl: seconds a ``denied`` verdict is kept (default 10 minutes).
        alias_ttl: seconds a revision name is trusted to point at the same commit (default 10 minutes).
        detector: a callable replacing the default rules (see :mod:`vision_cache.detect.detector`).
        sidecar_python: another venv's python whose transformers judges configs the raw read finds
            inconclusive (default ``VISION_CACHE_SIDECAR_PYTHON``).
        sidecar_timeout: seconds the sidecar may take (default 60); past it the verdict is ``unknown``.
        redis_prefix: namespace of every key in Redis (default ``VISION_CACHE_REDIS_PREFIX``, else
            ``vision_cache:``). With ``url``, ``directory`` is the local tier used during a Redis outage.
        failure_backoff: seconds other callers skip the Hub after an ``unknown`` (default 10, at most 30).
        hub_timeout: bound on the Hub time of one cold lookup (default 10 s).
        lease_ttl: a crashed detector's lease is taken over within this many seconds (renewed while alive).
        memory_ttl: seconds this process may answer from memory without reading the store (0: never).
            It bounds how long a purge by another process may go unseen here.

    Raises:
        ConfigurationError: a setting is invalid. Nothing else: an unusable store degrades to
        memory with one warning.
    """

    def __init__(
        self,
        directory: str | os.PathLike | None = None,
        url: str | None = None,
        negative_ttl: float | None = None,
        denied_ttl: float | None = None,
        alias_ttl: float | None = None,
        detector: Callable | None = None,
        *,
        sidecar_python: str | None = None,
        sidecar_timeout: float | None = None,
        redis_prefix: str | None = None,
        failure_backoff: float | None = None,
        hub_timeout: float | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL,
        memory_ttl: float = MEMORY_TTL,
    ) -> None:
        self.settings = Settings.resolve(
            directory=directory, url=url, negative_ttl=negative_ttl, denied_ttl=denied_ttl, alias_ttl=alias_ttl,
            failure_backoff=failure_backoff, hub_timeout=hub_timeout, sidecar_python=sidecar_python,
            redis_prefix=redis_prefix,
            sidecar_timeout=sidecar_timeout,
        )
        if detector is None:
            from .detect.detector import DefaultDetector

            detector = DefaultDetector(self.settings.sidecar_python, self.settings.sidecar_timeout)
        self.detector = detector
        self._lease_ttl = lease_ttl
        self._warned: set[str] = set()
        self._fingerprint: str | None = None
        self.counters = Counters(lambda: self.store)  # reads self.store at each flush: it may degrade
        self.store: Store = self._open_store()
        if hasattr(self.detector, "registry_store"):
            self.detector.registry_store = self.store
        self._memory = _MemoryTier(memory_ttl)

    # -- the public API --------------------------------------------------------------------------

    def is_vision_model(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                        revision: str | None = None) -> bool:
        """True only if the model is a vision-language model (Studio's drop-in signature)."""
        return self.lookup(model_name, hf_token, local_files_only, revision).is_vision

    def lookup(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
               revision: str | None = None) -> Verdict:
        """The verdict for ``model_name`` at ``revision``, from the store if possible, else detected.

        Raises:
            InvalidModelNameError, InvalidRevisionError, InvalidTokenError, LocalModelNotFoundError:
            bad input (nothing is written). Store, Redis and Hub failures never raise.
        """
        target = self._target(model_name, hf_token, local_files_only, revision)
        remembered = self._memory.get(target)
        if remembered is not None:
            self.counters.add("hits_memory")
            return remembered
        version = self._content_version(target)
        stored = self._stored_answer(target, version)
        if stored is not None:
            self.counters.add("hits_store")
            return self._memory.put(target, stored)
        verdict = self._detect_once(target, version)  # validates the name fully before writing anything
        self.counters.add("misses")
        if verdict.kind is Kind.UNKNOWN:
            self.counters.add("unknown")
        elif verdict.source is Source.STALE:
            self.counters.add("hits_stale")
        elif verdict.source is Source.DETECTED:
            self.counters.add("detections")  # (a waiter's answer is counted as a miss and a lease wait)
        return self._memory.put(target, verdict)

    # -- operating the store (the CLI's ls / purge / stats / warm) ----------------------------------

    def entries(self, model_name: str | None = None) -> list[Entry]:
        """Every stored verdict (of one model if given), newest first."""
        prefix = "verdict" + keys.SEP
        if model_name is not None:
            prefix += keys.parse_subject(model_name).key + keys.SEP
        found = []
        for key, record, _ in self._scan(prefix):
            try:
                verdict = Verdict.from_record(record)
            except ValueError:
                continue
            parts = keys.split_key(key)
            if len(parts) == 4:  # anything else was not written by us
                found.append(Entry(verdict, parts[2], parts[3]))
        return sorted(found, key=lambda e: e.verdict.created_at, reverse=True)

    def purge(self, model_name: str | None = None, *, expired: bool = False, denied: bool = False,
              everything: bool = False) -> int:
        """Delete entries: every entry of ``model_name``; ``expired`` ones; ``denied`` verdicts; or ``everything``
        (verdicts, aliases and backoffs; the schema record, secret and counters stay). Returns how many."""
        removed = 0
        if expired:
            removed += self._guarded(self.store.expire, 0)
        doomed: list[str] = []
        if model_name is not None:
            for prefix in keys.subject_prefixes(keys.parse_subject(model_name)):
                doomed += [k for k, _, _ in self._scan(prefix)]
        if everything:
            for family in ("verdict", "alias", "backoff"):
                doomed += [k for k, _, _ in self._scan(family + keys.SEP)]
        if denied:
            doomed += [k for k, v, _ in self._scan("verdict" + keys.SEP)
                       if isinstance(v, dict) and v.get("kind") == Kind.DENIED.value]
        for key in dict.fromkeys(doomed):
            removed += bool(self._guarded(lambda k=key: self.store.delete(k), False))
        self._memory.clear()
        return removed

    def stats(self) -> dict:
        """Counters of every process sharing the store, entries by kind, and the store's size."""
        from . import counters

        self.counters.flush()
        by_kind = dict.fromkeys([k.value for k in Kind if k is not Kind.UNKNOWN], 0)
        for _, record, _ in self._scan("verdict" + keys.SEP):
            kind = record.get("kind") if isinstance(record, dict) else None
            if kind in by_kind:
                by_kind[kind] += 1
        return {
            "store": {"kind": self.store.kind, "location": self.store.location,
                      "size_bytes": self.store.size_bytes()},
            "counters": self._guarded(lambda: counters.read(self.store), {}),
            "entries": by_kind,
            "aliases": sum(1 for _ in self._scan("alias" + keys.SEP)),
        }

    def warm_start(self, models=(), *, scan_hf_cache: bool = True, hf_cache_dir: str | None = None,
                   background: bool = False, progress: bool = False):
        """Prepare the store at boot: migrate, drop expired entries, pre-detect local models.

        See :func:`vision_cache.warm.warm_start`. With ``background=True`` it runs in a daemon thread
        and returns a ``concurrent.futures.Future`` of the :class:`~vision_cache.warm.WarmReport`.
        """
        from .warm import warm_start

        return warm_start(self, models, scan_hf_cache=scan_hf_cache, hf_cache_dir=hf_cache_dir,
                          background=background, progress=progress)

    def _scan(self, prefix: str):
        try:
            return list(self.store.scan(prefix))
        except StoreError as exc:
            self._warn_once("store", f"vision_cache: store read failed ({exc})")
            return []

    def _guarded(self, operation, default):
        try:
            return operation()
        except StoreError as exc:
            self._warn_once("store-write", f"vision_cache: store operation failed ({exc})")
            return default

    # -- steps 1-3: the hit path -------------------------------------------------------------------

    def _target(self, model_name, hf_token, local_files_only, revision) -> _Target:
        subject = keys.parse_subject(model_name)
        revision = keys.parse_revision(revision)
        if subject.is_local:
            return _Target(subject, revision, keys.LOCAL, None, True)
        token = keys.effective_token(hf_token)
        offline = bool(local_files_only) or keys.ambient()[1]
        return _Target(subject, revision, keys.auth_scope(token, self._secret()), token, offline)

    def _content_version(self, target: _Target) -> str | None:
        """The commit sha (or local digest) to look up, if known without the network."""
        if target.subject.is_local:
            from .detect.local import content_digest

            return content_digest(target.subject.name)
        if keys.is_commit_sha(target.revision):
            return target.revision
        alias = self._alias(target)
        return alias["sha"] if alias and alias["fresh_until"] > time.time() else None

    def _stored_answer(self, target: _Target, version: str | None) -> Verdict | None:
        """A stored verdict at ``version``, else a stored denial of the revision."""
        if version is not None:
            verdict = self._stored(target, keys.verdict_key(target.subject, version, target.scope), version)
            if verdict is not None:
                return verdict
        if target.subject.is_local:
            return None
        return self._stored(target, keys.verdict_key(target.subject, "@" + target.revision, target.scope), None)

    def _stored(self, target: _Target, key: str, version: str | None, source: Source = Source.STORE
                ) -> Verdict | None:
        record = self._get(key)
        if record is None:
            return None
        try:
            verdict = Verdict.from_record(record, source, target.revision)
        except ValueError as exc:
            self._warn_once("malformed", f"vision_cache: ignoring a malformed store entry ({exc})")
            self._delete(key)
            return None
        if verdict.commit_sha != version or not keys.same_subject(verdict.subject, target.subject):
            return None  # not what this key should hold: treat as a miss
        if verdict.expires_at is not None and verdict.expires_at <= time.time():
            return None
        if verdict.kind is Kind.NOT_VISION and verdict.detector != self.fingerprint:
            from .fingerprint import is_older

            if is_older(verdict.detector, self.fingerprint):
                return None  # an upgraded detector may know better: re-check negatives (positives stand)
        return verdict

    def _alias(self, target: _Target) -> dict | None:
        record = self._get(keys.alias_key(target.subject, target.revision, target.scope))
        if isinstance(record, dict) and isinstance(record.get("sha"), str) and \
                keys.is_commit_sha(record["sha"]) and isinstance(record.get("fresh_until"), (int, float)):
            return record
        return None

    # -- step 4: detect once across processes --------------------------------------------------------

    def _detect_once(self, target: _Target, version: str | None) -> Verdict:
        """Detect under a lease on the key; if another process holds it, wait for its verdict.

        A waiter gives up (``unknown``) after the longest a healthy detection should take, so a
        holder stuck in a custom detector cannot hold every other worker forever.
        """
        from .lease import Lease

        key_args = (target.subject, target.revision, target.scope)
        lease = Lease(self.store, keys.lease_key(*key_args), self._lease_ttl)
        give_up = time.monotonic() + self._lease_ttl + self.settings.hub_timeout + self.settings.sidecar_timeout
        waiting = False
        while True:
            if not target.subject.is_local and self._get(keys.backoff_key(*key_args)) is not None:
                return self._detect_offline(target, "the Hub failed moments ago")  # stale if we can, else unknown
            try:
                # a read first: while another process holds the lease, waiters never contend for a write
                acquired = self.store.get(lease.key) is None and lease.try_acquire()
            except StoreError as exc:
                self._warn_once("store", f"vision_cache: store unavailable, detecting without it ({exc})")
                return self._detect(target, version)
            if acquired:
                try:
                    again = self._stored_answer(target, self._version_again(target, version))
                    return again if again is not None else self._detect(target, version)
                finally:
                    lease.release()
            if not waiting:
                waiting = True
                self.counters.add("lease_waits")
            time.sleep(_WAIT_POLL)  # another process is detecting this key: wait for its verdict
            waited = self._stored_answer(target, self._version_again(target, version))
            if waited is not None:
                return waited
            if time.monotonic() > give_up:
                return self._unknown(target, None, "another process has been detecting this model for too long")

    def _version_again(self, target: _Target, version: str | None) -> str | None:
        """The content version after a wait: a new alias may have appeared; a local digest stands."""
        return version if target.subject.is_local else self._content_version(target)

    def _detect(self, target: _Target, version: str | None) -> Verdict:
        """Detect now (this process holds the key's lease, or the store is down)."""
        if target.subject.is_local:
            return self._detect_local(target, version)
        # Full Hub rules (huggingface_hub costs ~0.2 s to import) only in the process that detects,
        # before it writes anything; a waiter is answered by what this process writes.
        keys.validate_hub_subject(target.subject)
        if target.offline:
            return self._detect_offline(target, "offline")
        from . import hub
        from .detect.failures import classify_exception

        deadline = time.monotonic() + self.settings.hub_timeout  # one budget for the whole cold lookup
        try:
            state = hub.repo_state(target.subject.name, target.revision, target.token, _left(deadline))
            if state.gated:
                hub.confirm_access(target.subject.name, state, target.token, _left(deadline))
        except Exception as exc:  # classified: denied is an answer, anything else is unknown
            kind, evidence = classify_exception(exc)
            if kind is Kind.DENIED:
                return self._commit(target, None, kind, evidence)
            self._set_backoff(target)  # other workers answer stale (or unknown) instead of waiting on the Hub
            return self._detect_offline(target, evidence)
        sha = state.commit_sha
        if not keys.is_commit_sha(target.revision):
            self._write_alias(target, target.revision, sha)
        stored = self._stored(target, keys.verdict_key(target.subject, sha, target.scope), sha)
        if stored is not None:
            return stored  # e.g. "main" moved to a commit already known under another name
        kind, evidence = self._run_detector(target, sha, state.files, deadline)
        return self._commit(target, sha, kind, evidence)

    def _detect_offline(self, target: _Target, reason: str) -> Verdict:
        """No Hub: answer from an expired alias or the HF cache's refs/, marked stale; never guess."""
        from . import hub

        alias = None if keys.is_commit_sha(target.revision) else self._alias(target)
        if keys.is_commit_sha(target.revision):
            sha = target.revision
        elif alias is not None:
            sha = alias["sha"]
        else:
            sha = hub.cached_commit(target.subject.name, target.revision)
        if sha is None:
            return self._unknown(target, None, f"{reason}, and this revision was never resolved here")
        stored = self._stored(target, keys.verdict_key(target.subject, sha, target.scope), sha, Source.STALE)
        if stored is not None:
            return stored
        offline_target = target._replace(offline=True)
        kind, evidence = self._run_detector(offline_target, sha, ())
        if kind is Kind.UNKNOWN:
            return self._unknown(target, sha, f"{reason}; {evidence}")
        # Access was confirmed for this auth scope only if an alias was resolved with it: only then store.
        verdict = self._verdict(target, sha, kind, f"{evidence} (stale: {reason})", Source.STALE)
        if alias is not None and kind is not Kind.DENIED:
            self._write(target, verdict)
        return verdict

    def _detect_local(self, target: _Target, digest: str) -> Verdict:
        kind, evidence = self._run_detector(target, digest, ())
        return self._commit(target, digest, kind, evidence)

    def _warm_snapshot(self, repo_id: str, sha: str, refs: tuple[str, ...], hf_cache_dir: str | None = None
                       ) -> str:
        """Judge a snapshot of the local HF cache with no request: "stored", "detected" or "failed"."""
        try:
            subject = keys.parse_subject(repo_id)
            keys.validate_hub_subject(subject)
            revision = keys.parse_revision(sha)
            token = keys.effective_token(None)
        except VisionCacheError:
            return "failed"
        if subject.is_local or not keys.is_commit_sha(revision):
            return "failed"
        target = _Target(subject, revision, keys.auth_scope(token, self._secret()), token, True)
        outcome = "stored"
        if self._stored(target, keys.verdict_key(subject, sha, target.scope), sha) is None:
            kind, evidence = self._run_detector(target, sha, (), hf_cache_dir=hf_cache_dir)
            if kind not in (Kind.VISION, Kind.NOT_VISION):
                return "failed"
            self._write(target, self._verdict(target, sha, kind, f"{evidence} (local HF cache)", Source.DETECTED))
            outcome = "detected"
        for ref in refs:
            try:
                ref = keys.parse_revision(ref)  # refs/ names come from folder contents: hostile until checked
            except VisionCacheError:
                continue
            alias = self._alias(target._replace(revision=ref))
            if alias is None or alias["fresh_until"] <= time.time():
                self._write_alias(target, ref, sha)
        return outcome

    def _run_detector(self, target: _Target, sha: str, files: tuple[str, ...], deadline: float | None = None,
                      hf_cache_dir: str | None = None) -> tuple[Kind, str]:
        from .detect.detector import Detection, DetectionRequest
        from .detect.failures import classify_exception

        request = DetectionRequest(
            subject=target.subject.name, commit_sha=sha, revision=target.revision, token=target.token,
            offline=target.offline, files=files,
            local_path=target.subject.name if target.subject.is_local else None,
            timeout=self.settings.hub_timeout if deadline is None else max(deadline - time.monotonic(), 0.05),
            hf_cache_dir=hf_cache_dir,
        )
        try:
            result = self.detector(request)
        except Exception as exc:
            return classify_exception(exc)
        if isinstance(result, bool):
            return (Kind.VISION if result else Kind.NOT_VISION), "custom detector"
        if isinstance(result, Detection) and result.kind in (Kind.VISION, Kind.NOT_VISION, Kind.DENIED):
            return result.kind, result.evidence
        if isinstance(result, Detection):
            return Kind.UNKNOWN, result.evidence
        return Kind.UNKNOWN, f"detector returned {type(result).__name__}, not a Detection or bool"

    # -- writing verdicts ----------------------------------------------------------------------------

    def _commit(self, target: _Target, sha: str | None, kind: Kind, evidence: str) -> Verdict:
        """Build the verdict for a finished detection; store it unless it is unknown."""
        if kind is Kind.UNKNOWN:
            self._set_backoff(target)
            return self._unknown(target, sha, evidence)
        if kind is Kind.DENIED:
            sha = None  # a denial has no commit: it is stored under the revision name
        verdict = self._verdict(target, sha, kind, evidence, Source.DETECTED)
        self._write(target, verdict)
        return verdict

    def _write_alias(self, target: _Target, revision: str, sha: str) -> None:
        """Remember that ``revision`` pointed at ``sha`` for this scope: fresh for alias_ttl, then stale-only."""
        now = time.time()
        self._set(keys.alias_key(target.subject, revision, target.scope),
                  {"sha": sha, "resolved_at": now, "fresh_until": now + self.settings.alias_ttl},
                  self.settings.alias_ttl + STALE_WINDOW)

    def _set_backoff(self, target: _Target) -> None:
        self._set(keys.backoff_key(target.subject, target.revision, target.scope), {"at": time.time()},
                  self.settings.failure_backoff)

    def _write(self, target: _Target, verdict: Verdict) -> None:
        version = verdict.commit_sha if verdict.commit_sha is not None else "@" + target.revision
        ttl = None if verdict.expires_at is None else max(verdict.expires_at - verdict.created_at, 0.001)
        self._set(keys.verdict_key(target.subject, version, target.scope), verdict.to_record(), ttl)

    def _verdict(self, target: _Target, sha: str | None, kind: Kind, evidence: str, source: Source) -> Verdict:
        now = time.time()
        ttl = {Kind.VISION: None, Kind.NOT_VISION: self.settings.negative_ttl,
               Kind.DENIED: self.settings.denied_ttl}[kind]
        return Verdict(kind=kind, source=source, subject=target.subject.name, revision=target.revision,
                       commit_sha=sha, created_at=now, expires_at=None if ttl is None else now + ttl,
                       detector=self.fingerprint, evidence=evidence)

    def _unknown(self, target: _Target, sha: str | None, evidence: str) -> Verdict:
        return Verdict(kind=Kind.UNKNOWN, source=Source.DETECTED, subject=target.subject.name,
                       revision=target.revision, commit_sha=sha, created_at=time.time(), expires_at=None,
                       detector=self.fingerprint, evidence=evidence)

    # -- the store, guarded: a failing store degrades, never raises -------------------------------

    @property
    def fingerprint(self) -> str:
        """The detector's fingerprint, recorded in every verdict (computed once per cache)."""
        if self._fingerprint is None:
            from .detect.detector import DefaultDetector
            from .fingerprint import custom_fingerprint

            self._fingerprint = (self.detector.fingerprint if isinstance(self.detector, DefaultDetector)
                                 else custom_fingerprint(self.detector))
        return self._fingerprint

    def _open_store(self) -> Store:
        from .migrate import migrate
        from .stores import open_store

        try:
            store = open_store(self.settings.directory or default_directory(), self.settings.url,
                               self.settings.redis_prefix)
            migrate(store)
            return store
        except (StoreError, VisionCacheError) as exc:
            self._warn_once("open", f"vision_cache: using a memory-only cache: {exc}")
            return MemoryStore()

    def _secret(self) -> bytes:
        """The store's per-install secret (each store keeps it in memory once read)."""
        try:
            return self.store.secret()
        except StoreError as exc:
            self._warn_once("open", f"vision_cache: using a memory-only cache: {exc}")
            self.store = MemoryStore()
            return self.store.secret()

    def _get(self, key: str):
        try:
            return self.store.get(key)
        except StoreError as exc:
            self._warn_once("store", f"vision_cache: store read failed, treating as a miss ({exc})")
            return None

    def _set(self, key: str, value, ttl: float | None) -> None:
        try:
            self.store.set(key, value, ttl)
        except StoreError as exc:
            self._warn_once("store-write", f"vision_cache: store write failed; the verdict is not kept ({exc})")

    def _delete(self, key: str) -> None:
        try:
            self.store.delete(key)
        except StoreError:
            pass

    def _warn_once(self, topic: str, message: str) -> None:
        if topic.startswith("store"):
            self.counters.add("errors")
        if topic not in self._warned:
            self._warned.add(topic)
            logger().warning(message)

    def close(self) -> None:
        """Flush counters and release the store's connections. The cache may still be used afterwards."""
        self.counters.flush()
        self.store.close()

    def __repr__(self) -> str:
        return f"VisionCache(store={self.store!r})"


def _left(deadline: float) -> float:
    """Seconds left before ``deadline``; raises TimeoutError (an ``unknown``) when none are."""
    left = deadline - time.monotonic()
    if left <= 0.05:
        raise TimeoutError("the Hub time budget of this lookup is spent")
    return left


class _MemoryTier:
    """This process's short memory of final verdicts: at most ``ttl`` seconds, never past expiry.

    Because an entry lives at most ``ttl`` seconds, a purge or invalidation by any other process is
    seen here within ``ttl``; a purge by this process clears it at once. Unknown and stale answers
    are never remembered.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str, str], tuple[Verdict, float]] = {}

    def get(self, target: _Target) -> Verdict | None:
        key = (target.subject.key, target.revision, target.scope)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= time.time():
            self._entries.pop(key, None)
            return None
        return entry[0]

    def put(self, target: _Target, verdict: Verdict) -> Verdict:
        if self.ttl > 0 and verdict.kind is not Kind.UNKNOWN and verdict.source is not Source.STALE \
                and not target.subject.is_local:  # a local folder may be edited at any moment
            deadline = time.time() + self.ttl
            if verdict.expires_at is not None:
                deadline = min(deadline, verdict.expires_at)
            if len(self._entries) > 4096:
                self._entries.clear()
            self._entries[(target.subject.key, target.revision, target.scope)] = (
                verdict.with_source(Source.MEMORY), deadline)
        return verdict

    def clear(self) -> None:
        self._entries.clear()


_default: VisionCache | None = None
_default_lock = threading.Lock()


def default_cache() -> VisionCache:
    """The process-wide cache behind the module-level :func:`is_vision_model`, made on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = VisionCache()
    return _default


def is_vision_model(model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                    revision: str | None = None) -> bool:
    """Drop-in for Unsloth Studio's ``is_vision_model``, answered from the default cache."""
    return default_cache().is_vision_model(model_name, hf_token, local_files_only, revision)
