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
from .target import (
    LOCAL,
    Target,
    ambient_token,
    effective_token,
    is_commit_sha,
    parse_gguf_variant,
    parse_question,
    parse_revision,
    parse_subject,
    same_subject,
)
from .verdict import Kind, Question, Source, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: the hit path imports as little as it can
    from collections.abc import Callable
    from datetime import timedelta
    from types import TracebackType
    from typing import Any

    from .detect.detector import Detection
    from .ledger import Alias, Entry
    from .resolver import Resolution

    Seconds = float | timedelta

_REPARSE = 1.0  # seconds a parsed Hub name is reused (a folder created under that name is noticed within this)
_MAX_PARSED = 4096


class VisionCache:
    """A persistent, shared cache of "is this model a vision-language model?" verdicts.

    Usable as a context manager (``with VisionCache() as cache:``), which closes it on exit.
    ``directory`` and ``url`` may be given by position; every other argument is keyword-only
    (``negative_ttl``, ``denied_ttl``, ``alias_ttl`` and ``detector`` by position still work in
    this release, with a :class:`DeprecationWarning`).

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
        *deprecated_positional: Any,
        negative_ttl: Seconds | None = None,
        denied_ttl: Seconds | None = None,
        alias_ttl: Seconds | None = None,
        detector: Callable[..., Any] | None = None,
        hub: Any = None,
        sidecar_python: str | os.PathLike[str] | None = None,
        sidecar_timeout: Seconds | None = None,
        redis_prefix: str | None = None,
        hub_timeout: Seconds | None = None,
        lease_ttl: Seconds | None = None,
        memory_ttl: Seconds | None = None,
        failure_backoff: Seconds | None = None,
    ) -> None:
        if deprecated_positional:  # 0.1.0 took these four by position; keyword-only from now on
            given = _positional_tuning(deprecated_positional, negative_ttl=negative_ttl, denied_ttl=denied_ttl,
                                       alias_ttl=alias_ttl, detector=detector)
            negative_ttl, denied_ttl = given["negative_ttl"], given["denied_ttl"]
            alias_ttl, detector = given["alias_ttl"], given["detector"]
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
        # The Hub client, the detectors and the resolver are made on the first miss: a hit needs none
        # of them (nor the huggingface_hub and transformers imports they bring).
        self._hub = hub
        self._detector = detector
        self._detectors: dict[Question, Any] | None = None
        self._resolver: Any = None
        self.ledger: Ledger = open_ledger(self.settings, self._fingerprint_of)
        self._memory = MemoryTier(self.settings.memory_ttl)
        # (model_name, revision, hf_token, gguf_variant, require_image, question) ->
        #     (reuse until (monotonic), effective token, Target, version)
        self._parsed: dict[tuple[Any, ...], tuple[float, str | None, Target, str | None]] = {}

    @property
    def hub(self) -> Any:
        """The :class:`~vision_cache.hub.HubClient` misses go through."""
        if self._hub is None:
            from .hub import HfHubClient

            self._hub = HfHubClient()
        return self._hub

    @property
    def detector(self) -> Any:
        """The vision question's detector (pluggable; the default one is built on first use)."""
        if self._detector is None:
            from .detect.detector import DefaultDetector
            from .detect.registry import registry_source

            self._detector = DefaultDetector(self.hub, registry_source(self.ledger.shared),
                                             self.settings.sidecar_python, self.settings.sidecar_timeout)
        return self._detector

    @property
    def detectors(self) -> dict[Question, Any]:
        """Each question's detector: the vision one above, and the built-in audio and embedding ones."""
        if self._detectors is None:
            from .detect.answers import AudioDetector, EmbeddingDetector

            self._detectors = {Question.VISION: self.detector, Question.AUDIO_TYPE: AudioDetector(self.hub),
                               Question.EMBEDDING: EmbeddingDetector(self.hub)}
        return self._detectors

    @property
    def resolver(self) -> Any:
        if self._resolver is None:
            from .resolver import Resolver

            self._resolver = Resolver(self.hub, self.ledger)
        return self._resolver

    @property
    def fingerprint(self) -> str:
        """The vision detector's fingerprint, recorded in every vision verdict."""
        return self.ledger.fingerprint(Question.VISION)

    def _fingerprint_of(self, question: Question) -> str:
        """A question's detector fingerprint, without building the default detectors (a negative hit
        needs it; tests/test_fingerprint.py checks both ways agree)."""
        if question is Question.VISION and self._detector is None and self.settings.sidecar_python is None:
            from .fingerprint import default_fingerprint

            return default_fingerprint()
        if question is not Question.VISION:
            from .detect.answers import question_fingerprint

            return question_fingerprint(question.value)
        from .detect.detector import detector_fingerprint

        return detector_fingerprint(self.detector)

    # -- the public API --------------------------------------------------------------------------

    def is_vision_model(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                        revision: str | None = None, gguf_variant: str | None = None,
                        require_image: bool = True) -> bool:
        """Unsloth Studio's ``is_vision_model``, with its whole signature and contract: True only for a
        vision-language model; never raises (bad input, like any failure, answers False with a log line).

        ``gguf_variant`` picks the quant of a local GGUF folder a load would open; ``require_image=False``
        asks only whether a local GGUF model has a projector at all. Both are ignored for Hub repos, as
        Studio ignores them. See docs/studio.md.
        """
        verdict = self._drop_in("is_vision_model", model_name, hf_token=hf_token, local_files_only=local_files_only,
                                revision=revision, gguf_variant=gguf_variant, require_image=require_image)
        return verdict is not None and verdict.is_vision

    def detect_audio_type(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                          revision: str | None = None) -> str | None:
        """Studio's ``detect_audio_type``: ``snac``, ``csm``, ``bicodec``, ``dac``, ``whisper``,
        ``audio_vlm`` or None. Never raises."""
        return self.detect_audio_type_checked(model_name, hf_token, local_files_only, revision)[0]

    def detect_audio_type_checked(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
                                  revision: str | None = None) -> tuple[str | None, bool]:
        """Studio's ``detect_audio_type_checked``: ``(audio type or None, definitive)``. ``definitive`` is
        False when nothing could be read for a reason other than absence (a transient failure, no access,
        offline with nothing local): Studio's trainer then refuses to assume "not audio". Never raises."""
        if not model_name:
            return None, True  # Studio's early answer for an empty name
        verdict = self._drop_in("detect_audio_type", model_name, hf_token=hf_token, local_files_only=local_files_only,
                                revision=revision, question=Question.AUDIO_TYPE)
        if verdict is None or not verdict.kind.is_answer:
            return None, False
        answer = verdict.answer
        return (answer if isinstance(answer, str) else None), True

    def is_embedding_model(self, model_name: str, hf_token: str | None = None) -> bool:
        """Studio's ``is_embedding_model``: a sentence-transformers / feature-extraction model. Never raises."""
        verdict = self._drop_in("is_embedding_model", model_name, hf_token=hf_token, question=Question.EMBEDDING)
        return verdict is not None and verdict.answer is True

    def _drop_in(self, name: str, model_name: object, **arguments: Any) -> Verdict | None:
        """``lookup`` for a Studio drop-in: any exception becomes None (the caller's falsy answer) and a log line."""
        try:
            return self.lookup(model_name, **arguments)  # type: ignore[arg-type]
        except Exception as exc:  # Studio's contract: never raise
            from ._log import logger

            logger().warning("vision_cache: %s(%s) answers no: %s: %s", name, _shown(model_name),
                             type(exc).__name__, exc)
            return None

    def lookup(self, model_name: str, hf_token: str | None = None, local_files_only: bool = False,
               revision: str | None = None, *, question: Question | str = Question.VISION,
               gguf_variant: str | None = None, require_image: bool = True) -> Verdict:
        """The verdict for ``model_name`` at ``revision``, from memory or the store if possible, else detected.

        ``question``: ``"vision"`` (default), ``"audio_type"`` or ``"embedding"``; the verdict's
        ``answer`` is then the answer in the Studio drop-in's terms.

        Raises:
            InvalidModelNameError, InvalidRevisionError, InvalidTokenError, InvalidVariantError,
            InvalidQuestionError, LocalModelNotFoundError: bad input (nothing is read or written).
            Store, Redis and Hub failures never raise.
        """
        target, version = self._parse(model_name, hf_token, revision, gguf_variant, require_image,
                                      question)  # 1. parse
        if self._memory.ttl:
            verdict = self._memory.get(target)  # 2. memory tier
            if verdict is not None:
                self.ledger.count("hits_memory")
                return verdict
        reading = self.ledger.read(target, version)  # 3. ledger read
        if reading.verdict is not None:
            self.ledger.count("hits_store")
            return self._memory.put(target, reading.verdict)
        missed_at = time.monotonic()
        if not target.subject.is_local:  # huggingface_hub's own rules, before anything is written
            from .target import validate_hub_subject

            validate_hub_subject(target.subject)
            target = target._replace(offline=bool(local_files_only) or hub_offline())  # read live, on a miss
        verdict = self.ledger.single_flight(target, version,  # 4-7
                                            lambda: self._detect(target, version, reading.alias), missed_at)
        self.ledger.count("misses")
        if verdict.kind is Kind.UNKNOWN:
            self.ledger.count("unknown")
        elif verdict.source is Source.STALE:
            self.ledger.count("hits_stale")
        return self._memory.put(target, verdict)

    # -- the pipeline's steps ------------------------------------------------------------------------

    def stored_answers(self, model_names: list[str]) -> dict[str, Verdict]:
        """The stored vision answers for ``model_names`` (at their default revision, for the ambient
        token), read in a few batched store reads (warm start's re-check of many models). Names that
        are local paths, that fail to parse, or that have no good stored answer are left out: look
        those up one by one."""
        from .errors import VisionCacheError
        from .target import DEFAULT_REVISION

        token = effective_token(None)  # what lookup(name) gives each of them
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

    # -- the pipeline's steps ------------------------------------------------------------------------

    def _parse(self, model_name: object, hf_token: object, revision: object, gguf_variant: object = None,
               require_image: object = True, question: object = Question.VISION) -> tuple[Target, str | None]:
        """The target, and its content version when it is known without the network (a commit sha or
        a local digest). ``offline`` is left False for a Hub name: only a miss reads it.

        A Hub name's parse is reused for up to a second (never past a change of the ambient token):
        parsing, the path check that tells a Hub name from a local folder, and the keyed auth scope
        cost more than the rest of a hit. Local paths are parsed, and digested, on every call."""
        key: tuple[Any, ...] | None = (model_name, revision, hf_token, gguf_variant, require_image, question)
        try:
            parsed = self._parsed.get(key)  # type: ignore[arg-type]
        except TypeError:  # unhashable input: parsed (and refused) below
            parsed = key = None
        if parsed is not None and parsed[0] > time.monotonic() and (hf_token is not None
                                                                     or parsed[1] == ambient_token()):
            return parsed[2], parsed[3]
        subject = parse_subject(model_name)
        parsed_revision = parse_revision(revision)
        variant = parse_gguf_variant(gguf_variant)
        asked = parse_question(question)
        if subject.is_local:
            from .detect.local import content_digest

            target = Target(subject, parsed_revision, LOCAL, None, True, variant, bool(require_image), asked)
            return target, content_digest(subject.name, variant, bool(require_image), asked.value)
        token = effective_token(hf_token)

        def validate() -> None:  # the first token ever creates the store's secret: not for a name the Hub refuses
            from .target import validate_hub_subject

            validate_hub_subject(subject)

        target = Target(subject, parsed_revision, self.ledger.scope(token, validate), token, False, question=asked)
        version = parsed_revision if is_commit_sha(parsed_revision) else None
        if key is not None:
            if len(self._parsed) >= _MAX_PARSED:
                self._parsed.clear()
            self._parsed[key] = (time.monotonic() + _REPARSE, token, target, version)
        return target, version

    def _detect(self, target: Target, version: str | None, alias: Alias | None) -> Verdict:
        """Steps 5-7, in the one process that holds the key's lease."""
        if target.subject.is_local:
            assert version is not None
            detection = self._run_detector(target, version, (), None, self.settings.hub_timeout)
            self.ledger.count("detections")
            return self.ledger.record(target, version, detection.kind, detection.evidence, answer=detection.answer)
        deadline = time.monotonic() + self.settings.hub_timeout  # one budget for the whole cold lookup
        from .resolver import Resolution

        if version is None and alias is not None and alias.fresh:
            # A fresh alias for this scope names the commit (another question was just asked): no request.
            resolution = Resolution(alias.sha, alias.files or ())
        else:
            resolution = self.resolver.resolve(target, deadline)  # 5. resolve
        if resolution.kind is not None:  # denied (stored) or unknown (not)
            return self.ledger.record(target, None, resolution.kind, resolution.evidence)
        sha = resolution.sha
        assert sha is not None
        if resolution.repo_id and same_subject(resolution.repo_id, target.subject):  # report the Hub's casing
            target = target._replace(subject=target.subject._replace(name=resolution.repo_id))
        if not resolution.stale:
            self._answer_from_card(target, sha, resolution)
        if version is None or resolution.stale:  # e.g. "main" moved to a commit already judged
            known = self.ledger.known(target, sha, Source.STALE if resolution.stale else Source.STORE,
                                      adopt=resolution.vouched)
            if known is not None:
                return known
        if not resolution.stale:
            detection = self._run_detector(target, sha, resolution.files, resolution.card,
                                           deadline - time.monotonic())  # 6. detect
            self.ledger.count("detections")
            return self.ledger.record(target, sha, detection.kind, detection.evidence, answer=detection.answer)  # 7.
        detection = self._run_detector(target._replace(offline=True), sha, (), None, self.settings.hub_timeout)
        if detection.kind is Kind.UNKNOWN:
            return self.ledger.record(target, sha, Kind.UNKNOWN, f"{resolution.evidence}; {detection.evidence}")
        return self.ledger.record(target, sha, detection.kind, f"{detection.evidence} (stale: {resolution.evidence})",
                                  Source.STALE, keep=resolution.vouched and detection.kind is not Kind.DENIED,
                                  answer=detection.answer)

    def _answer_from_card(self, target: Target, sha: str, resolution: Resolution) -> None:
        """One cold read answers what it can: the model card the resolver fetched decides the embedding
        question too, so it is recorded now, with no extra request (asked later, it is a store hit)."""
        if resolution.card is None or target.question is Question.EMBEDDING:
            return
        from .detect.embedding import judge_embedding_info

        card = resolution.card
        answer, evidence = judge_embedding_info(card.tags, card.pipeline_tag, card.library_name)
        self.ledger.record(target._replace(question=Question.EMBEDDING), sha,
                           Kind.POSITIVE if answer else Kind.NEGATIVE, evidence, answer=answer)

    def _run_detector(self, target: Target, sha: str, files: tuple[str, ...], card: Any, timeout: float,
                      hf_cache_dir: str | None = None) -> Detection:
        from .detect.detector import Detection, DetectionRequest, run_detector

        request = DetectionRequest(
            subject=target.subject.name, commit_sha=sha, revision=target.revision, token=target.token,
            offline=target.offline, files=files,
            local_path=target.subject.name if target.subject.is_local else None,
            timeout=max(timeout, 0.05), hf_cache_dir=hf_cache_dir, gguf_variant=target.gguf_variant,
            require_image=target.require_image, card=card,
        )
        detection = run_detector(self.detectors[target.question], request)
        vision = target.question is Question.VISION
        allowed = (Kind.VISION, Kind.NOT_VISION) if vision else (Kind.POSITIVE, Kind.NEGATIVE)
        if detection.kind.is_answer and detection.kind not in allowed:
            return Detection(Kind.UNKNOWN, f"the detector answered {detection.kind.value}, "
                                           f"which does not answer the {target.question.value} question")
        return detection

    # -- operating the store (the CLI's ls / purge / stats / warm) ------------------------------------

    def entries(self, model_name: str | None = None, question: Question | str | None = None) -> list[Entry]:
        """Every stored verdict (of one model, answering one question, if given), newest first."""
        from .operations import entries

        return entries(self.ledger, model_name, question)

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

    def __enter__(self) -> VisionCache:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VisionCache(store={self.ledger.store!r})"


def _shown(model_name: object) -> str:
    """``model_name`` for a log line: quoted, bounded, control characters escaped."""
    text = repr(model_name) if isinstance(model_name, str) else f"<{type(model_name).__name__}>"
    return text if len(text) <= 100 else text[:100] + "..."


_POSITIONAL_TUNING = ("negative_ttl", "denied_ttl", "alias_ttl", "detector")


def _positional_tuning(values: tuple[Any, ...], **keywords: Any) -> dict[str, Any]:
    """Map the tuning arguments 0.1.0 accepted by position onto their names, with a DeprecationWarning.

    Raises:
        TypeError: too many positional arguments, or one given both by position and by name.
    """
    if len(values) > len(_POSITIONAL_TUNING):
        raise TypeError(f"VisionCache() takes at most {2 + len(_POSITIONAL_TUNING)} positional arguments "
                        f"({2 + len(values)} given)")
    import warnings

    named = dict(zip(_POSITIONAL_TUNING, values, strict=False))
    for name in named:
        if keywords[name] is not None:
            raise TypeError(f"VisionCache() got multiple values for argument {name!r}")
    warnings.warn(f"passing {', '.join(named)} to VisionCache() by position is deprecated and will stop working "
                  f"in the next release; pass {'them' if len(named) > 1 else 'it'} by keyword "
                  f"({', '.join(f'{n}=...' for n in named)})", DeprecationWarning, stacklevel=3)
    return {**keywords, **named}
