"""VisionCache: the lookup pipeline, top to bottom, each step once (docs/design.md, "The lookup pipeline").

1. **parse** the name (Hub repo id or local path), the revision, the effective token and offline
   mode into a :class:`~vision_cache.target.Target` (bad input raises here, before anything else);
2. **memory tier**: this process's answer from the last ``memory_ttl`` seconds;
3. **ledger read**: the stored verdict (one read by commit sha or local digest; by revision name,
   the alias with the revision's denial, then the verdict);
4. **single-flight**: validate the name with huggingface_hub's rules, then one process across
   all that share the store takes the key's lease; the others wait for its verdict;
5. **resolve** the revision to a commit (:mod:`.resolver`), unless the subject is local;
6. **detect** (:mod:`.detect`), and 7. **write** the verdict (:mod:`.ledger`).

Steps 1-3 import neither huggingface_hub nor transformers and touch no network. Bad input raises
(:mod:`.errors`); a failing store, Redis or Hub never does. The Studio drop-ins live in
:mod:`.studio`.
"""

from __future__ import annotations

import os
import time

from .ledger import Ledger, open_ledger
from .memory_tier import MemoryTier
from .settings import Settings, hub_offline
from .target import LOCAL, Target, ambient_token, effective_token, is_commit_sha, parse_revision, parse_subject
from .verdict import Kind, Source, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: the hit path imports as little as it can
    from collections.abc import Callable
    from datetime import timedelta
    from typing import Any

    from .ledger import Entry

    Seconds = float | timedelta

_REPARSE = 1.0  # seconds a parsed Hub name is reused (a folder created under that name is noticed within this)
_MAX_PARSED = 4096


class VisionCache:
    """A persistent, shared cache of "is this model a vision-language model?" verdicts.

    Args:
        directory: store folder (default ``VISION_CACHE_DIR``, else the platformdirs user cache folder).
        url: ``redis://...`` to keep the store in Redis (default ``VISION_CACHE_URL``); ``directory``
            is then the local tier used during a Redis outage.
        negative_ttl: how long a ``not_vision`` verdict is kept (seconds or timedelta; default 7 days).
        denied_ttl: how long a ``denied`` verdict is kept (default 10 minutes).
        alias_ttl: how long a revision name is trusted to point at the same commit (default 10 minutes).
        detector: a callable replacing the default rules (see :mod:`vision_cache.detect.detector`).
        hub: the :class:`~vision_cache.hub.HubClient` to use (default: huggingface_hub's client).
        sidecar_python: another venv's python whose transformers judges configs the raw read finds
            inconclusive (default ``VISION_CACHE_SIDECAR_PYTHON``).
        sidecar_timeout: how long the sidecar may take (default 60 s); past it the verdict is ``unknown``.
        redis_prefix: namespace of every key in Redis (default ``vision_cache:``).
        hub_timeout: bound on the Hub time of one cold lookup (default 10 s).
        lease_ttl: a crashed detector's lease is taken over within this long (renewed while alive).
        memory_ttl: how long this process may answer from memory without reading the store (0: never).
            It bounds how long a purge by another process may go unseen here.

    Every setting also reads ``VISION_CACHE_<NAME>`` (see :mod:`vision_cache.settings`).

    Raises:
        ConfigurationError: a setting is invalid. Nothing else: an unusable store degrades to
        memory with one warning.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        url: str | None = None,
        negative_ttl: Seconds | None = None,
        denied_ttl: Seconds | None = None,
        alias_ttl: Seconds | None = None,
        detector: Callable[..., Any] | None = None,
        *,
        hub: Any = None,
        sidecar_python: str | os.PathLike[str] | None = None,
        sidecar_timeout: Seconds | None = None,
        redis_prefix: str | None = None,
        hub_timeout: Seconds | None = None,
        lease_ttl: Seconds | None = None,
        memory_ttl: Seconds | None = None,
        failure_backoff: Seconds | None = None,
    ) -> None:
        if failure_backoff is not None:
            import warnings

            warnings.warn("failure_backoff is gone: a transient failure is retried by the next call, and calls "
                          "that overlap an attempt share its outcome (single-flight)", DeprecationWarning,
                          stacklevel=2)
        self.settings = Settings.resolve(
            directory=directory, url=url, negative_ttl=negative_ttl, denied_ttl=denied_ttl, alias_ttl=alias_ttl,
            hub_timeout=hub_timeout, sidecar_python=sidecar_python, sidecar_timeout=sidecar_timeout,
            redis_prefix=redis_prefix, lease_ttl=lease_ttl, memory_ttl=memory_ttl,
        )
        # The Hub client, the default detector and the resolver are made on the first miss: a hit needs
        # none of them (nor the huggingface_hub and transformers imports they bring).
        self._hub = hub
        self._detector = detector
        self._resolver: Any = None
        self.ledger: Ledger = open_ledger(self.settings, lambda: self.fingerprint)
        self._memory = MemoryTier(self.settings.memory_ttl)
        self._fingerprint: str | None = None
        # (model_name, revision, hf_token) -> (reuse until (monotonic), effective token, Target, version)
        self._parsed: dict[tuple, tuple[float, str | None, Target, str | None]] = {}

    @property
    def hub(self) -> Any:
        """The :class:`~vision_cache.hub.HubClient` misses go through."""
        if self._hub is None:
            from .hub import HfHubClient

            self._hub = HfHubClient()
        return self._hub

    @property
    def detector(self) -> Any:
        """The detector misses run (the default one is built on first use)."""
        if self._detector is None:
            from .detect.detector import DefaultDetector
            from .detect.registry import registry_source

            self._detector = DefaultDetector(self.hub, registry_source(self.ledger), self.settings.sidecar_python,
                                             self.settings.sidecar_timeout)
        return self._detector

    @property
    def resolver(self) -> Any:
        if self._resolver is None:
            from .resolver import Resolver

            self._resolver = Resolver(self.hub, self.ledger)
        return self._resolver

    @property
    def fingerprint(self) -> str:
        """The detector's fingerprint, recorded in every verdict (computed once per cache)."""
        if self._fingerprint is None:
            if self._detector is None and self.settings.sidecar_python is None:
                # The default detector's fingerprint without building the detector: a not_vision hit
                # needs it (tests/test_fingerprint.py checks it equals DefaultDetector().fingerprint).
                from .fingerprint import default_fingerprint

                self._fingerprint = default_fingerprint()
            else:
                from .detect.detector import detector_fingerprint

                self._fingerprint = detector_fingerprint(self.detector)
        return self._fingerprint

    # -- the public API --------------------------------------------------------------------------

    def is_vision_model(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                        revision: str | None = None) -> bool:
        """True only if the model is a vision-language model (Studio's signature; see :mod:`.studio`)."""
        return self.lookup(model_name, hf_token, local_files_only, revision).is_vision

    def lookup(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
               revision: str | None = None) -> Verdict:
        """The verdict for ``model_name`` at ``revision``, from memory or the store if possible, else detected.

        Raises:
            InvalidModelNameError, InvalidRevisionError, InvalidTokenError, LocalModelNotFoundError:
            bad input (nothing is written). Store, Redis and Hub failures never raise.
        """
        target, version = self._parse(model_name, hf_token, revision)  # 1. parse
        if self._memory.ttl:
            verdict = self._memory.get(target)  # 2. memory tier
            if verdict is not None:
                self.ledger.count("hits_memory")
                return verdict
        verdict = self.ledger.read(target, version)  # 3. ledger read
        if verdict is not None:
            self.ledger.count("hits_store")
            return self._memory.put(target, verdict)
        missed_at = time.monotonic()
        if not target.subject.is_local:  # huggingface_hub's own rules, before anything is written
            from .target import validate_hub_subject

            validate_hub_subject(target.subject)
            target = target._replace(offline=bool(local_files_only) or hub_offline())  # read live, on a miss
        verdict = self.ledger.single_flight(target, version, lambda: self._detect(target, version),  # 4-7
                                            missed_at)
        self.ledger.count("misses")
        if verdict.kind is Kind.UNKNOWN:
            self.ledger.count("unknown")
        elif verdict.source is Source.STALE:
            self.ledger.count("hits_stale")
        return self._memory.put(target, verdict)

    # -- the pipeline's steps ------------------------------------------------------------------------

    def _stored_many(self, model_names: list[str]) -> dict[str, Verdict]:
        """The stored answers for ``model_names`` (at their default revision, for the ambient token),
        read in a few batched store reads (a warm start's re-check of every model). Names that are
        local paths, that fail to parse, or that have no good stored answer are left out: the caller
        looks those up one by one."""
        from .errors import VisionCacheError
        from .target import DEFAULT_REVISION

        token = effective_token(None)  # what _parse(name, None, None) gives each of them
        scope = self.ledger.scope(token)
        parsed = []
        for name in model_names:
            try:
                subject = parse_subject(name)
            except VisionCacheError:
                continue
            if not subject.is_local:
                parsed.append((name, Target(subject, DEFAULT_REVISION, scope, token, False)))
        found = {}
        for (name, _), verdict in zip(parsed, self.ledger.read_many([(t, None) for _, t in parsed]), strict=True):
            if verdict is not None:
                found[name] = verdict
        self.ledger.count("hits_store", len(found))
        return found

    def _parse(self, model_name: object, hf_token: object, revision: object) -> tuple[Target, str | None]:
        """The target, and its content version when it is known without the network (a commit sha or
        a local digest). ``offline`` is left False for a Hub name: only a miss reads it.

        A Hub name's parse is reused for up to a second (never past a change of the ambient token):
        parsing, the path check that tells a Hub name from a local folder, and the keyed auth scope
        cost more than the rest of a hit. Local paths are parsed, and digested, on every call."""
        key = (model_name, revision, hf_token)
        try:
            parsed = self._parsed.get(key)
        except TypeError:  # unhashable input: parsed (and refused) below
            parsed = key = None
        if parsed is not None and parsed[0] > time.monotonic() and (hf_token is not None
                                                                     or parsed[1] == ambient_token()):
            return parsed[2], parsed[3]
        subject = parse_subject(model_name)
        parsed_revision = parse_revision(revision)
        if subject.is_local:
            from .detect.local import content_digest

            return Target(subject, parsed_revision, LOCAL, None, True), content_digest(subject.name)
        token = effective_token(hf_token)
        target = Target(subject, parsed_revision, self.ledger.scope(token), token, False)
        version = parsed_revision if is_commit_sha(parsed_revision) else None
        if key is not None:
            if len(self._parsed) >= _MAX_PARSED:
                self._parsed.clear()
            self._parsed[key] = (time.monotonic() + _REPARSE, token, target, version)
        return target, version

    def _detect(self, target: Target, version: str | None) -> Verdict:
        """Steps 5-7, in the one process that holds the key's lease."""
        if target.subject.is_local:
            assert version is not None
            kind, evidence = self._run_detector(target, version, (), self.settings.hub_timeout)
            return self.ledger.record(target, version, kind, evidence)
        deadline = time.monotonic() + self.settings.hub_timeout  # one budget for the whole cold lookup
        resolution = self.resolver.resolve(target, deadline)  # 5. resolve
        if resolution.kind is not None:  # denied (stored) or unknown (not)
            return self.ledger.record(target, None, resolution.kind, resolution.evidence)
        sha = resolution.sha
        assert sha is not None
        if version is None or resolution.stale:  # e.g. "main" moved to a commit already judged
            known = self.ledger.verdict_at(target, sha, Source.STALE if resolution.stale else Source.STORE)
            if known is not None:
                return known
        if not resolution.stale:
            kind, evidence = self._run_detector(target, sha, resolution.files, deadline - time.monotonic())  # 6.
            self.ledger.count("detections")
            return self.ledger.record(target, sha, kind, evidence)  # 7. write
        kind, evidence = self._run_detector(target._replace(offline=True), sha, (), self.settings.hub_timeout)
        if kind is Kind.UNKNOWN:
            return self.ledger.record(target, sha, kind, f"{resolution.evidence}; {evidence}")
        return self.ledger.record(target, sha, kind, f"{evidence} (stale: {resolution.evidence})", Source.STALE,
                                  keep=resolution.vouched and kind is not Kind.DENIED)

    def _run_detector(self, target: Target, sha: str, files: tuple[str, ...], timeout: float,
                      hf_cache_dir: str | None = None) -> tuple[Kind, str]:
        from .detect.detector import DetectionRequest, run_detector

        request = DetectionRequest(
            subject=target.subject.name, commit_sha=sha, revision=target.revision, token=target.token,
            offline=target.offline, files=files,
            local_path=target.subject.name if target.subject.is_local else None,
            timeout=max(timeout, 0.05), hf_cache_dir=hf_cache_dir,
        )
        return run_detector(self.detector, request)

    # -- operating the store (the CLI's ls / purge / stats / warm) ------------------------------------

    def entries(self, model_name: str | None = None) -> list[Entry]:
        """Every stored verdict (of one model if given), newest first."""
        from .operations import entries

        return entries(self.ledger, model_name)

    def purge(self, model_name: str | None = None, *, expired: bool = False, denied: bool = False,
              everything: bool = False) -> int:
        """Delete entries: every entry of ``model_name``; ``expired`` ones; ``denied`` verdicts; or
        ``everything`` (verdicts, aliases and leases; the schema, secret and counters stay). Returns how many."""
        from .operations import purge

        removed = purge(self.ledger, model_name, expired=expired, denied=denied, everything=everything)
        self._memory.clear()
        return removed

    def stats(self) -> dict[str, Any]:
        """Counters of every process sharing the store, entries by kind, and the store's size."""
        from .operations import stats

        return stats(self.ledger)

    def warm_start(self, models: list[str] | tuple[str, ...] = (), *, scan_hf_cache: bool = True,
                   hf_cache_dir: str | None = None, background: bool = False, progress: bool = False) -> Any:
        """Prepare the store at boot: migrate, drop expired entries, pre-detect local models.

        See :func:`vision_cache.warm.warm_start`. With ``background=True`` it runs in a daemon thread
        and returns a ``concurrent.futures.Future`` of the :class:`~vision_cache.warm.WarmReport`.
        """
        from .warm import warm_start

        return warm_start(self, models, scan_hf_cache=scan_hf_cache, hf_cache_dir=hf_cache_dir,
                          background=background, progress=progress)

    @property
    def store(self) -> Any:
        """The store in use (it may have degraded to memory)."""
        return self.ledger.store

    def close(self) -> None:
        """Flush counters and release the store's connections. The cache may still be used afterwards."""
        self.ledger.close()

    def __repr__(self) -> str:
        return f"VisionCache(store={self.ledger.store!r})"
