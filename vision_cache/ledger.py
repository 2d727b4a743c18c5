"""The ledger: the only reader and writer of the store.

It owns everything about what is stored and how (docs/design.md, "The ledger"):

- the **key layout** of every family (:class:`Keys`): nothing else in the package spells a key;
- **record encoding and validation**: store contents are hostile, so every record is checked
  field by field before it is believed, and a malformed one is a miss;
- **lifetimes**: which verdict kinds are stored and for how long, and the rule that an older
  detector's ``not_vision`` is re-checked;
- the **per-install secret** that keys auth scopes, made once, on top of an atomic ``add``;
- **single-flight**: one process detects a cold key while the others wait for its verdict, or
  share its failure if they overlapped it;
- the **guard**: a :class:`~vision_cache.errors.StoreError` becomes a degraded answer (a miss, a
  write not kept, a memory-only store) with one warning, never an exception in the caller.

Key layout (fields joined by ``\\x1f``, which no accepted name, revision or scope contains)::

    verdict  <subject> <commit sha | local digest | @revision> <scope>  -> a vision verdict record
    audio    <subject> <commit sha | local digest | @revision> <scope>  -> an audio-type verdict record
    embedding <subject> <commit sha | local digest | @revision> <scope> -> an embedding verdict record
    alias    <subject> <revision name> <scope>                          -> {sha, resolved_at, fresh_until, files}
    lease    <subject> <revision> <scope> <question>                    -> owner token (single-flight)
    outcome  <owner token>                                              -> {evidence}: a failed attempt, for its waiters
    stats    <counter name>                                             -> int
    meta     schema | created | auth-secret | migration-lock | registry <identity> [lease]

``<subject>`` is ``hub:<repo id, ASCII lower-case>`` or ``local:<absolute path>``; ``<scope>`` is
``anonymous``, ``local``, ``token:<HMAC of the token>``, or ``hf-cache`` for what warm start learnt
from the local HF cache (evidence of content, never an answer to a scope by itself). The vision
family keeps schema 1's name, ``verdict``; each other question is one more family.
"""

from __future__ import annotations

import atexit
import math
import os
import re
import threading
import time
import weakref
from functools import partial

from ._log import logger
from ._tuples import NamedTuple
from .errors import StoreError, StoreUnavailable, VisionCacheError
from .settings import Settings, default_directory
from .stores.base import Store, decode_json
from .target import Subject, Target, same_subject
from .verdict import SHA_RE, Kind, Question, Source, Verdict

TYPE_CHECKING = False  # (typing is not imported on the hit path)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeVar

    T = TypeVar("T")

SEP = "\x1f"
STALE_WINDOW = 30 * 24 * 3600.0  # an expired alias is kept this long, to answer when the Hub is unreachable
_WAIT_POLL = 0.05
_MAX_TEXT = 4096
_SECRET_FORMAT = re.compile(r"[0-9a-f]{64}")
_MAX_TIME = 1 << 42  # unix seconds (year ~141,000): past this a stored time is planted, not written by us
_CLOCK_SLACK = 300.0  # how far ahead another host's clock may run before what it wrote is not believed
_MAX_REMEMBERED = 4096  # entries in each of the ledger's hit-path memories (emptied when full)


class Keys:
    """Every key the package writes, by family. The single definition of the layout."""

    VERDICT, ALIAS, LEASE, OUTCOME, STATS, META = "verdict", "alias", "lease", "outcome", "stats", "meta"
    #: the family of each question's verdicts (vision keeps schema 1's name)
    ANSWERS = {Question.VISION: VERDICT, Question.AUDIO_TYPE: "audio", Question.EMBEDDING: "embedding"}
    #: families that hold answers about a model (purge by model, ``ls``)
    MODEL_FAMILIES = (*ANSWERS.values(), ALIAS, LEASE)
    #: families an operator's ``purge --all`` empties (schema, secret and counters stay)
    PURGEABLE = (*ANSWERS.values(), ALIAS, LEASE, OUTCOME)
    #: the scope of evidence warm start read in the local HF cache (see docs/design.md, "Warm start")
    HF_CACHE_SCOPE = "hf-cache"

    SCHEMA = META + SEP + "schema"
    CREATED = META + SEP + "created"
    SECRET = META + SEP + "auth-secret"
    MIGRATION_LOCK = META + SEP + "migration-lock"

    @staticmethod
    def verdict(subject: Subject, version: str, scope: str, question: Question = Question.VISION) -> str:
        return SEP.join((Keys.ANSWERS[question], subject.key, version, scope))

    @staticmethod
    def denial(subject: Subject, revision: str, scope: str, question: Question = Question.VISION) -> str:
        """A denial has no commit: it is stored under the revision name."""
        return SEP.join((Keys.ANSWERS[question], subject.key, "@" + revision, scope))

    @staticmethod
    def alias(subject: Subject, revision: str, scope: str) -> str:
        return SEP.join((Keys.ALIAS, subject.key, revision, scope))

    @staticmethod
    def lease(subject: Subject, revision: str, scope: str, question: Question = Question.VISION) -> str:
        return SEP.join((Keys.LEASE, subject.key, revision, scope, question.value))

    @staticmethod
    def outcome(owner: str) -> str:
        return SEP.join((Keys.OUTCOME, owner))

    @staticmethod
    def counter(name: str) -> str:
        return SEP.join((Keys.STATS, name))

    @staticmethod
    def registry(identity: str) -> str:
        return SEP.join((Keys.META, "registry", identity))

    @staticmethod
    def family(family: str, subject: Subject | None = None) -> str:
        """The prefix of every key of ``family`` (about ``subject`` if given)."""
        return family + SEP + (subject.key + SEP if subject is not None else "")

    @staticmethod
    def split(key: str) -> list[str]:
        return key.split(SEP)

    @staticmethod
    def replayed(key: str) -> bool:
        """Entries written to a local tier during a Redis outage that are copied back on recovery."""
        return key.startswith(tuple(family + SEP for family in (*Keys.ANSWERS.values(), Keys.ALIAS)))

    @staticmethod
    def mirrored(key: str) -> bool:
        """Entries kept in the local tier too, so that an outage later in this process still finds them."""
        return key == Keys.SECRET


class Alias(NamedTuple):
    sha: str
    resolved_at: float
    fresh_until: float
    listed: list[Any] | None = None  # the stored file list, not yet checked (see files)

    @property
    def fresh(self) -> bool:
        return self.fresh_until > time.time()

    @property
    def files(self) -> tuple[str, ...] | None:
        """The repo's files at that commit, when the Hub listed them; None if not, or if the stored list
        is malformed. Checked here, when a miss uses it, not on every hit that reads the alias."""
        if self.listed is None or not all(_is_text(name) for name in self.listed):
            return None
        return tuple(self.listed)


class Entry(NamedTuple):
    """A stored verdict as ``vision-cache ls`` shows it."""

    verdict: Verdict
    version: str  # the commit sha / local digest, or "@revision" for a denial
    scope: str  # "anonymous", "local", "token:<fingerprint>" or "hf-cache"


class Reading(NamedTuple):
    """What the hit path read: the verdict if one is good, and the alias it went through (if any)."""

    verdict: Verdict | None
    alias: Alias | None = None


# -- records: encoding, and validation of what the store hands back --------------------------------


def encode_verdict(verdict: Verdict) -> dict[str, Any]:
    record = verdict.to_dict()
    del record["source"], record["is_vision"]
    return record


_STORED_KINDS = {  # what each question may store (an unknown verdict is never stored)
    question: {kind.value: kind for kind in kinds}
    for question, kinds in {
        Question.VISION: (Kind.VISION, Kind.NOT_VISION, Kind.DENIED),
        Question.AUDIO_TYPE: (Kind.POSITIVE, Kind.NEGATIVE, Kind.DENIED),
        Question.EMBEDDING: (Kind.POSITIVE, Kind.NEGATIVE, Kind.DENIED),
    }.items()
}


def _answer(question: Question, kind: Kind, answer: Any) -> bool | str | None:
    """The stored answer, checked against its question and kind. Raises ValueError."""
    if question is not Question.AUDIO_TYPE:
        return kind.is_positive  # a bool derived from the kind: nothing stored to trust
    from .detect.audio import AUDIO_TYPES

    if kind is Kind.POSITIVE:
        if answer not in AUDIO_TYPES:
            raise ValueError("stored audio type is not one of the known types")
        return str(answer)
    return None


def decode_verdict(record: Any, source: Source = Source.STORE, revision: str | None = None,
                   question: Question = Question.VISION) -> Verdict:
    """Rebuild a verdict from a stored record, validating every field (store contents are hostile).

    ``revision``: report the verdict as an answer for this revision name (a commit's verdict serves
    every name that resolves to it); default: the one stored. ``question``: the question of the
    family it was read from (schema 1 records carry none).

    Raises:
        ValueError: the record is malformed (wrong type, unknown kind, bad sha, out-of-range time...).
    """
    if type(record) is not dict:
        raise ValueError("stored verdict is not an object")
    fields: dict[str, Any] = record

    def get(name: str, default: Any = None) -> Any:
        return fields.get(name, default)

    kind, sha, created, expires = get("kind"), get("commit_sha"), get("created_at"), get("expires_at")
    subject, stored_revision, detector, evidence = get("subject"), get("revision"), get("detector"), get("evidence")
    if get("question", question.value) != question.value:
        raise ValueError("stored verdict answers another question than its key says")
    if type(kind) is not str or kind not in _STORED_KINDS[question]:  # a list or an object is unhashable
        raise ValueError("stored verdict has no valid kind for its question")
    if sha is not None and not (type(sha) is str and SHA_RE.fullmatch(sha)):
        raise ValueError("stored commit_sha is not 40 hex digits")
    if not (_is_text(subject) and _is_text(detector) and _is_text(evidence)
            and (stored_revision is None or _is_text(stored_revision))):
        raise ValueError("stored verdict has a malformed text field")
    if not (_is_time(created) and (expires is None or _is_time(expires))):
        raise ValueError("stored verdict has a malformed time")
    if expires is not None and expires < created:
        raise ValueError("stored verdict expires before it was made")
    decoded_kind = _STORED_KINDS[question][kind]
    return Verdict(
        kind=decoded_kind, source=source, subject=subject,
        revision=revision if revision is not None else stored_revision, commit_sha=sha,
        created_at=float(created), expires_at=None if expires is None else float(expires),
        detector=detector, evidence=evidence, question=question,
        answer=_answer(question, decoded_kind, get("answer")),
    )


_MAX_FILES = 5000


def decode_alias(record: Any) -> Alias | None:
    """An alias record, or None if it is malformed (hostile store contents are a miss)."""
    if type(record) is not dict:
        return None
    fields: dict[str, Any] = record
    sha: Any = fields.get("sha")
    resolved: Any = fields.get("resolved_at")
    fresh: Any = fields.get("fresh_until")
    files: Any = fields.get("files")
    if files is not None and not (type(files) is list and len(files) <= _MAX_FILES):
        return None
    if type(sha) is str and SHA_RE.fullmatch(sha) and _is_time(resolved) and _is_time(fresh):
        return Alias(sha, float(resolved), float(fresh), files)
    return None


def _same_record(record: Any, validated: Any) -> bool:
    """Whether ``record`` (a value read back from a store) would validate exactly as ``validated`` (a
    record that did). Equal JSON values can differ only in their numbers' types (``true == 1 == 1.0``)
    and :func:`decode_verdict` checks the type of two numbers only: a time may not be a bool."""
    return (type(record) is dict and record == validated and type(record.get("created_at")) is not bool
            and type(record.get("expires_at")) is not bool)


def _is_text(value: Any) -> bool:
    return type(value) is str and len(value) <= _MAX_TEXT and value.isprintable()


def _is_time(value: Any) -> bool:
    if type(value) is int:
        return 0 <= value < _MAX_TIME
    return type(value) is float and math.isfinite(value) and 0 <= value < _MAX_TIME


# -- the ledger ----------------------------------------------------------------------------------


class Ledger:
    """Reads and writes verdicts, aliases, leases and bookkeeping in one store (see the module docstring).

    Args:
        store: an open store (see :func:`open_ledger` for the usual way to get one).
        settings: lifetimes and the single-flight timings.
        fingerprint: the current detector fingerprint of a question (called once per question,
            lazily: a positive hit never needs it).

    Thread-safe: one ledger may serve every thread of a process.
    """

    def __init__(self, store: Store, settings: Settings, fingerprint: Callable[[Question], str]) -> None:
        self.store = store
        self.settings = settings
        self._fingerprint_source = fingerprint
        self._fingerprints: dict[Question, str] = {}
        self._lifetimes = self._lifetime_table(settings)
        self._secret: bytes | None = None
        # the hit path's memory (docs/design.md, "The ledger"): validated records by their stored text,
        # aliases until their fresh_until, and which stored detector fingerprints are older than ours
        self._records: dict[str, tuple[str | bytes, str, Source, Verdict]] = {}
        self._aliases: dict[str, tuple[str, float]] = {}
        self._older: dict[tuple[str, str], bool] = {}
        self._warned: set[str] = set()
        self._pending_counts: dict[str, int] = {}
        self._counts_lock = threading.Lock()
        self._last_flush = time.monotonic()
        _live.add(self)

    def fingerprint(self, question: Question = Question.VISION) -> str:
        """The fingerprint of the detector that answers ``question`` now."""
        found = self._fingerprints.get(question)
        if found is None:
            found = self._fingerprints[question] = self._fingerprint_source(question)
        return found

    def guarded(self, operation: Callable[[], T], default: T, what: str = "store operation") -> T:
        """Run a store operation; on :class:`StoreError` warn once, count it, and return ``default``."""
        try:
            return operation()
        except StoreError as exc:
            self.warn_once(what, f"vision_cache: {what} failed ({exc})")
            self.count("errors")
            return default

    def warn_once(self, topic: str, message: str) -> None:
        if topic not in self._warned:
            self._warned.add(topic)
            logger().warning(message)

    def degrade(self, reason: str) -> None:
        """Swap in a memory-only store for the rest of this process's life (with one warning)."""
        from .stores.memory import MemoryStore

        self.warn_once("open", f"vision_cache: using a memory-only cache: {reason}")
        self.store = MemoryStore()
        self._secret = None
        self._records.clear()  # what was read from the old store says nothing of the new one
        self._aliases.clear()

    # -- the secret and auth scopes ------------------------------------------------------------------

    def secret(self, before_write: Callable[[], None] | None = None) -> bytes:
        """The per-install secret that keys auth-scope fingerprints: created once by whichever
        process gets there first (atomic ``add``), then read back so that every process agrees.

        ``before_write`` runs before the secret is created or replaced (a write): the caller's last
        chance to refuse bad input, so that a lookup that raises has written nothing."""
        if self._secret is None:
            try:
                try:
                    record = self.store.get(Keys.SECRET)
                except StoreError as exc:
                    if isinstance(exc, StoreUnavailable):
                        raise
                    record = ""  # one unreadable entry (not JSON: a planted pickle): replaced below, as malformed
                if record is None:
                    if before_write is not None:
                        before_write()
                    self.store.add(Keys.SECRET, os.urandom(32).hex(), None)
                    record = self.store.get(Keys.SECRET)
                if not (type(record) is str and _SECRET_FORMAT.fullmatch(record)):
                    # Planted or damaged: replace it. Token-scoped verdicts become misses; nothing is
                    # served under a secret someone else chose.
                    if before_write is not None:
                        before_write()
                    self.warn_once("secret", "vision_cache: the store's secret was malformed; made a new one "
                                             "(verdicts stored for tokens will be detected again)")
                    record = os.urandom(32).hex()
                    self.store.set(Keys.SECRET, record, None)
                self._secret = bytes.fromhex(record)
            except StoreError as exc:
                self.degrade(str(exc))
                return self.secret(before_write)
        return self._secret

    def scope(self, token: str | None, before_write: Callable[[], None] | None = None) -> str:
        """The auth scope of ``token`` (``before_write``: see :meth:`secret`)."""
        from .target import auth_scope

        return auth_scope(token, self.secret(before_write)) if token is not None else auth_scope(None, b"")

    # -- reading: the hit path -----------------------------------------------------------------------

    def read(self, target: Target, version: str | None) -> Reading:
        """The stored answer for ``target``: at ``version`` when it is known (one read), else through a
        fresh alias: one read when this process already knows the alias (until its ``fresh_until``), else
        two (the alias with the revision's denial, then the verdict). The alias read on the way is
        returned too: on a miss it still names the commit.

        A known alias is only a shortcut to a key: the verdict itself is read every time, so a purge
        (which removes it) is seen on the next call; if it is gone, the alias is read again."""
        subject, scope, question = target.subject, target.scope, target.question
        if version is not None:
            return Reading(self._stored(target, Keys.verdict(subject, version, scope, question), version))
        alias_key = Keys.alias(subject, target.revision, scope)
        known = self._aliases.get(alias_key)
        if known is not None:
            if known[1] > time.time():
                found = self._stored(target, Keys.verdict(subject, known[0], scope, question), known[0])
                if found is not None:
                    return Reading(found)
            self._aliases.pop(alias_key, None)
        alias_record, denial_record = self._get_many(
            [alias_key, Keys.denial(subject, target.revision, scope, question)])
        alias = self._alias(alias_record)
        if alias is not None and alias.fresh:
            found = self._stored(target, Keys.verdict(subject, alias.sha, scope, question), alias.sha)
            if found is not None:
                self._remember_alias(alias_key, alias.sha, alias.fresh_until)
                return Reading(found, alias)
        return Reading(self._verdict(target, denial_record, None), alias)

    def read_many(self, reads: list[tuple[Target, str | None]]) -> list[Verdict | None]:
        """:meth:`read` for many ``(target, version)`` at once, in two batched store reads whatever their
        number (three if some fresh alias's verdict is gone): the verdicts at known versions with the
        aliases of the others; then the verdicts at the fresh aliases' commits with the other names'
        denials. The same answers as :meth:`read`, one by one."""
        keys = [Keys.verdict(t.subject, v, t.scope, t.question) if v is not None
                else Keys.alias(t.subject, t.revision, t.scope) for t, v in reads]
        answers: list[Verdict | None] = [None] * len(reads)
        then: list[tuple[int, str, Alias | None]] = []  # (index, key to read next, the fresh alias if any)
        for index, ((target, version), record) in enumerate(zip(reads, self._get_many(keys), strict=True)):
            if version is not None:
                answers[index] = self._verdict(target, record, version)
                continue
            alias = self._alias(record)
            if alias is not None and alias.fresh:
                then.append((index, Keys.verdict(target.subject, alias.sha, target.scope, target.question), alias))
            else:
                then.append((index, Keys.denial(target.subject, target.revision, target.scope, target.question),
                             None))
        denials: list[int] = []  # fresh aliases whose verdict is not (or no longer) good
        for (index, _, alias), record in zip(then, self._get_many([key for _, key, _ in then]), strict=True):
            target = reads[index][0]
            if alias is None:
                answers[index] = self._verdict(target, record, None)
                continue
            answers[index] = found = self._verdict(target, record, alias.sha)
            if found is not None:
                self._remember_alias(keys[index], alias.sha, alias.fresh_until)
            else:
                denials.append(index)
        if denials:
            records = self._get_many([Keys.denial(reads[i][0].subject, reads[i][0].revision, reads[i][0].scope,
                                                  reads[i][0].question) for i in denials])
            for index, record in zip(denials, records, strict=True):
                answers[index] = self._verdict(reads[index][0], record, None)
        return answers

    def known(self, target: Target, sha: str, source: Source = Source.STORE, adopt: bool = True) -> Verdict | None:
        """The answer already known at commit ``sha``: stored for this scope, or else read by warm
        start in the local HF cache (which proves the content, not this scope's access: the caller
        has confirmed access when ``adopt``, and it is then stored for this scope). One store call."""
        subject, question = target.subject, target.question
        mine, evidence = self._get_many([Keys.verdict(subject, sha, target.scope, question),
                                         Keys.verdict(subject, sha, Keys.HF_CACHE_SCOPE, question)])
        found = self._verdict(target, mine, sha, source)
        if found is not None or target.scope == Keys.HF_CACHE_SCOPE:
            return found
        learnt = self._verdict(target, evidence, sha, source)
        if learnt is None or not learnt.kind.is_answer:
            return None
        return self.record(target, sha, learnt.kind, learnt.evidence, source, keep=adopt, answer=learnt.answer)

    def alias(self, target: Target) -> Alias | None:
        """The alias of ``target.revision``, fresh or not (a stale one may answer offline)."""
        return self._alias(self._get(Keys.alias(target.subject, target.revision, target.scope)))

    def _alias(self, record: Any) -> Alias | None:
        alias = decode_alias(record)
        if alias is None:
            return None
        now = time.time()
        if alias.resolved_at > now + _CLOCK_SLACK or alias.fresh_until > now + self.settings.alias_ttl + _CLOCK_SLACK:
            return None  # written by a clock far ahead (or planted): fresh for longer than alias_ttl allows
        return alias

    def _stored(self, target: Target, key: str, version: str, source: Source = Source.STORE) -> Verdict | None:
        """The verdict under ``key`` if it is still good. A record is parsed and validated once per
        distinct stored text (any other text under the key, rewritten or planted, is validated afresh);
        from a store that cannot hand back its text, once per distinct value (see :func:`_same_record`).
        Expiry and the detector check are applied on every read."""
        store = self.store
        as_text = type(store).get_text is not Store.get_text  # a backend that holds the text itself
        try:
            stored = store.get_text(key) if as_text else store.get(key)
        except StoreError as exc:
            self.warn_once("store read", f"vision_cache: store read failed ({exc})")
            self.count("errors")
            return None
        if stored is None:
            return None
        cached = self._records.get(key)
        if cached is not None and cached[1] == target.revision and cached[2] is source and (
                cached[0] == stored if as_text else _same_record(stored, cached[0])):
            verdict = cached[3]
        else:
            try:
                record = decode_json(stored) if as_text else stored
            except ValueError as exc:
                self.warn_once("malformed", f"vision_cache: ignoring a malformed store entry ({exc})")
                return None
            validated = self._validated(target, record, version, source)
            if validated is None:
                return None
            verdict = validated
            if len(self._records) >= _MAX_REMEMBERED:
                self._records.clear()
            self._records[key] = (stored, target.revision, source, verdict)
        return verdict if self._current(verdict) else None

    def _verdict(self, target: Target, record: Any, version: str | None,
                 source: Source = Source.STORE) -> Verdict | None:
        if record is None:
            return None
        verdict = self._validated(target, record, version, source)
        return verdict if verdict is not None and self._current(verdict) else None

    def _validated(self, target: Target, record: Any, version: str | None, source: Source) -> Verdict | None:
        """The verdict a record holds, if it is well formed and belongs under this key (else a miss)."""
        try:
            verdict = decode_verdict(record, source, target.revision, target.question)
        except ValueError as exc:
            self.warn_once("malformed", f"vision_cache: ignoring a malformed store entry ({exc})")
            return None
        if verdict.commit_sha != version or not same_subject(verdict.subject, target.subject):
            return None  # not what this key should hold: treat as a miss
        return verdict

    def _current(self, verdict: Verdict) -> bool:
        """Whether a valid stored verdict may still be served: not expired; not made in the future nor
        living longer than its kind may (a clock far ahead, or planted); and not a negative from an
        older detector (an upgraded detector may know better: negatives are re-checked, positives stand)."""
        now = time.time()
        expires = verdict.expires_at
        if expires is not None:
            if expires <= now:
                return False
            lifetime = self._lifetimes[verdict.question, verdict.kind]
            if lifetime is not None and expires > now + lifetime + _CLOCK_SLACK:
                return False
        if verdict.created_at > now + _CLOCK_SLACK:
            return False
        if verdict.kind is Kind.NOT_VISION or verdict.kind is Kind.NEGATIVE:
            current = self.fingerprint(verdict.question)
            if verdict.detector != current:
                older = self._older.get((verdict.detector, current))
                if older is None:
                    from .fingerprint import is_older

                    if len(self._older) >= _MAX_REMEMBERED:
                        self._older.clear()
                    older = self._older[(verdict.detector, current)] = is_older(verdict.detector, current)
                return not older
        return True

    def _remember_alias(self, key: str, sha: str, fresh_until: float) -> None:
        if len(self._aliases) >= _MAX_REMEMBERED:
            self._aliases.clear()
        self._aliases[key] = (sha, fresh_until)

    def _get(self, key: str) -> Any:
        return self.guarded(lambda: self.store.get(key), None, "store read")

    def _get_many(self, keys: list[str]) -> list[Any]:
        return self.guarded(lambda: self.store.get_many(keys), [None] * len(keys), "store read")

    # -- writing -------------------------------------------------------------------------------------

    def _lifetime(self, question: Question, kind: Kind) -> float | None:
        """How long a verdict of ``kind`` answering ``question`` is kept (None: as long as the commit)."""
        return self._lifetimes[question, kind]

    @staticmethod
    def _lifetime_table(settings: Settings) -> dict[tuple[Question, Kind], float | None]:
        negative = {Question.VISION: settings.negative_ttl, Question.AUDIO_TYPE: settings.audio_negative_ttl,
                    Question.EMBEDDING: settings.embedding_negative_ttl}
        return {(question, kind): None if kind.is_positive else settings.denied_ttl if kind is Kind.DENIED
                else negative[question] for question in Question for kind in Kind}

    def record(self, target: Target, sha: str | None, kind: Kind, evidence: str,
               source: Source = Source.DETECTED, keep: bool = True, answer: bool | str | None = None) -> Verdict:
        """Build the verdict for a finished detection and, if ``keep`` and it is an answer or a denial,
        store it for its kind's lifetime. ``unknown`` is never stored."""
        now = time.time()
        if kind is Kind.DENIED:
            sha = None  # a denial has no commit
        ttl = None if kind is Kind.UNKNOWN else self._lifetime(target.question, kind)
        verdict = Verdict(kind=kind, source=source, subject=target.subject.name, revision=target.revision,
                          commit_sha=sha, created_at=now, expires_at=None if ttl is None else now + ttl,
                          detector=self.fingerprint(target.question), evidence=evidence[:_MAX_TEXT],
                          question=target.question, answer=answer if kind.is_positive else None)
        if keep and kind is not Kind.UNKNOWN:
            key = (Keys.denial(target.subject, target.revision, target.scope, target.question) if sha is None
                   else Keys.verdict(target.subject, sha, target.scope, target.question))
            self._set(key, encode_verdict(verdict), ttl, "store write; the verdict is not kept")
        return verdict

    def write_alias(self, target: Target, revision: str, sha: str, files: tuple[str, ...] | None = None) -> None:
        """Remember that ``revision`` pointed at ``sha`` for this scope: fresh for alias_ttl, then stale-only.
        ``files``: the repo's files at that commit, so another question about it needs no listing."""
        now = time.time()
        key = Keys.alias(target.subject, revision, target.scope)
        record: dict[str, Any] = {"sha": sha, "resolved_at": now, "fresh_until": now + self.settings.alias_ttl}
        if files is not None and len(files) <= _MAX_FILES:
            record["files"] = list(files)
        self._set(key, record,
                  self.settings.alias_ttl + STALE_WINDOW, "store write")
        self._remember_alias(key, sha, now + self.settings.alias_ttl)

    def _set(self, key: str, value: Any, ttl: float | None, what: str) -> None:
        self.guarded(lambda: self.store.set(key, value, ttl), None, what)

    # -- single-flight ---------------------------------------------------------------------------------

    def single_flight(self, target: Target, version: str | None, detect: Callable[[], Verdict],
                      missed_at: float | None = None) -> Verdict:
        """Run ``detect`` in one process across all that share the store; the others wait for its verdict.

        - The process that takes the key's lease (atomic ``add``) detects; ``detect`` writes the verdict.
          It first reads once more if another process may have finished since the caller's miss (read
          at ``missed_at``, monotonic): with a known ``version``, after waiting for another holder, or
          when the miss is older than a poll period (a first write opens the database, a first miss
          imports validators: long enough for a holder to finish unseen). Else, by revision name,
          ``detect`` checks the resolved commit's verdict itself.
        - The others poll for the verdict. If the holder ends with no answer (``unknown``), the
          waiters that overlapped it share that outcome; a call that starts later tries again.
        - If the holder dies its lease expires within ``lease_ttl`` and a waiter takes over. A waiter
          that has seen the same holder for longer than ``lease_ttl`` plus one renewal re-arms the
          lease's expiry by its own clock (a live holder renews it anyway), so a dead holder whose
          clock ran ahead cannot hold the key for much more than ``2.4 * lease_ttl``. A waiter gives up
          (``unknown``) after the longest a healthy detection takes.
        - A lease key holding what no process writes (not a string, a JSON null, a text that the store
          cannot compare) is not a lease: detect without it, rather than wait on it.
        - If the store fails, detect without it.
        """
        from .lease import Lease

        ttl = self.settings.lease_ttl
        lease = Lease(self.store, Keys.lease(target.subject, target.revision, target.scope, target.question), ttl)
        give_up = time.monotonic() + ttl + self.settings.hub_timeout + self.settings.sidecar_timeout
        try:
            acquired = lease.try_acquire()
            holder, holder_since, waited = None, 0.0, False
            while not acquired:
                current = self.store.get(lease.key)  # waiters read; only a free lease is worth a write
                if holder is not None and current != holder:  # the attempt we waited on has ended
                    shared = self._shared_failure(target, holder)
                    if shared is not None:
                        return shared
                if current is None:
                    holder = None
                    acquired = lease.try_acquire()
                    if not acquired and self.store.get(lease.key) is None:
                        break  # held, yet it reads as nothing (a planted null): not a lease
                    continue
                if type(current) is not str:
                    break  # no process writes such an owner (planted or garbled): not a lease
                if holder is None:
                    self.count("lease_waits")
                if current != holder:
                    holder, holder_since = current, time.monotonic()
                elif time.monotonic() - holder_since > ttl + ttl / 3 + _WAIT_POLL:
                    # A holder that died with a sane clock is gone by now; one still here is alive (it
                    # renews every ttl/3) or died with a clock far ahead: bound its life by our clock...
                    if not self.store.compare_and_touch(lease.key, holder, ttl) and \
                            self.store.get(lease.key) == holder:
                        break  # ...unless it is not stored as we write it (planted): then it is not a lease
                    holder_since = time.monotonic()
                waited = True
                time.sleep(_WAIT_POLL)
                answer = self.read(target, version).verdict
                if answer is not None:
                    return answer
                if time.monotonic() > give_up:
                    return self.record(target, None, Kind.UNKNOWN,
                                       "another process has been detecting this model for too long")
        except StoreError as exc:
            self.warn_once("store read", f"vision_cache: store unavailable, detecting without it ({exc})")
            return detect()
        if not acquired:  # the lease key holds what no process writes: waiting on it could last forever
            self.warn_once("malformed", "vision_cache: ignoring a malformed lease entry; detecting without it")
            again = self.read(target, version).verdict
            return again if again is not None else detect()
        try:
            stale_miss = waited or missed_at is None or time.monotonic() - missed_at > _WAIT_POLL
            again = self.read(target, version).verdict if version is not None or stale_miss else None
            if again is not None:
                return again
            verdict = detect()
            if verdict.kind is Kind.UNKNOWN:  # tell the waiters that overlapped this attempt
                self._set(Keys.outcome(lease.owner), {"evidence": verdict.evidence[:_MAX_TEXT]}, ttl, "store write")
            return verdict
        finally:
            lease.release()

    def _shared_failure(self, target: Target, holder: Any) -> Verdict | None:
        """The ``unknown`` that the attempt held by ``holder`` ended with, if it left one."""
        if type(holder) is not str:
            return None
        outcome = self._get(Keys.outcome(holder))
        evidence = outcome.get("evidence") if type(outcome) is dict else None
        if not _is_text(evidence):
            return None
        return self.record(target, None, Kind.UNKNOWN, f"{evidence} (shared: the attempt in flight failed)")

    def shared(self, identity: str, build: Callable[[], Any], ttl: float, valid: Callable[[Any], bool]) -> Any:
        """A value computed once per ``identity`` across every process (e.g. transformers' registry
        tables): the first process builds and stores it under a lease; the others read it back.
        A stored value that ``valid`` refuses (store contents are hostile) is rebuilt and replaced."""
        from .lease import Lease

        key = Keys.registry(identity)
        try:
            stored = self.store.get(key)
            if stored is not None and valid(stored):
                return stored
            with Lease(self.store, key + SEP + "lease", ttl=10.0) as lease:
                lease.acquire(timeout=30.0)  # if another process is building, its value is coming
                stored = self.store.get(key)
                if stored is not None and valid(stored):
                    return stored
                value = build()
                self.store.set(key, value, ttl)
                return value
        except StoreError:
            return build()

    # -- counters ------------------------------------------------------------------------------------

    COUNTERS = (
        "hits_memory",  # answered from this process's memory tier
        "hits_store",  # answered from the shared store
        "hits_stale",  # answered from an expired alias or the HF cache while the Hub was unreachable
        "misses",  # nothing usable stored
        "detections",  # detector runs (at most one per cold key across processes)
        "lease_waits",  # lookups that waited for another process's detection
        "unknown",  # lookups answered unknown (Hub down, timeouts...)
        "errors",  # store failures survived
    )

    def count(self, name: str, events: int = 1) -> None:
        """Count an event (or ``events`` of them). Counts collect in memory and reach the store at most
        once a second (a hit must not become a write); a crash loses at most that second. Statistics,
        never verdicts."""
        with self._counts_lock:
            self._pending_counts[name] = self._pending_counts.get(name, 0) + events
            due = time.monotonic() - self._last_flush >= 1.0
        if due:
            self.flush_counts()

    def flush_counts(self) -> None:
        """Add pending counts to the store. Never raises; what cannot be written is kept for later."""
        with self._counts_lock:
            pending, self._pending_counts = self._pending_counts, {}
            self._last_flush = time.monotonic()
        for name, count in pending.items():
            try:
                self.store.incr(Keys.counter(name), count)
            except StoreError:
                with self._counts_lock:
                    self._pending_counts[name] = self._pending_counts.get(name, 0) + count

    def counters(self) -> dict[str, int]:
        """Every counter of every process sharing the store (0 for those never incremented)."""
        self.flush_counts()
        totals = dict.fromkeys(self.COUNTERS, 0)
        for key, value, _ in self.scan(Keys.family(Keys.STATS)):
            name = Keys.split(key)[-1]
            if name in totals and type(value) is int:
                totals[name] = value
        return totals

    # -- operating the store ---------------------------------------------------------------------------

    def scan(self, prefix: str) -> list[tuple[str, Any, float | None]]:
        return self.guarded(lambda: list(self.store.scan(prefix)), [], "store read")

    def entries(self, subject: Subject | None = None, questions: tuple[Question, ...] = tuple(Question)
                ) -> Iterator[Entry]:
        """Every well-formed stored verdict (of ``subject`` if given) answering ``questions``;
        malformed records are skipped."""
        for question in questions:
            for key, record, _ in self.scan(Keys.family(Keys.ANSWERS[question], subject)):
                parts = Keys.split(key)
                if len(parts) != 4:
                    continue  # not written by us
                try:
                    verdict = decode_verdict(record, question=question)
                except ValueError:
                    continue
                yield Entry(verdict, parts[2], parts[3])

    def delete(self, keys: list[str]) -> int:
        removed = 0
        for key in dict.fromkeys(keys):
            removed += self.guarded(partial(self.store.delete, key), False, "store write")
        return removed

    def expire(self) -> int:
        """Drop expired entries now; how many were dropped."""
        return self.guarded(self.store.expire, 0, "store write")

    def close(self) -> None:
        """Report pending counts (except a read-only process's hit counts: see :func:`_flush_at_exit`)
        and release the store's connections."""
        if set(self._pending_counts) - {"hits_memory", "hits_store"}:
            self.flush_counts()
        self.store.close()

    # -- bundles: answers judged by another install (vision_cache.bundle) ---------------------------------

    def adopt(self, subject: Subject, verdict: Verdict, prefer: Callable[[Verdict | None], bool],
              dry_run: bool = False) -> str:
        """Store ``verdict``, judged by another install, as this store's public answer at its commit.

        Only a ``vision`` or ``not_vision`` verdict at a commit sha of a Hub repo is adopted, always in
        the ``anonymous`` scope (never a token's), and a ``not_vision`` for no longer than this
        install's ``negative_ttl`` from its detection. ``prefer(current)`` is called once with the
        verdict stored there now (None: nothing usable) and decides whether to replace it.

        Returns ``"stored"`` (with ``dry_run``: would be), ``"declined"`` (``prefer`` said no),
        ``"over"`` (its lifetime is already over) or ``"failed"`` (the store failed; one warning).

        Raises:
            ValueError: ``verdict`` is not a public answer at a commit of ``subject``.
        """
        from .target import ANONYMOUS

        sha = verdict.commit_sha
        if (verdict.kind not in (Kind.VISION, Kind.NOT_VISION) or sha is None or not SHA_RE.fullmatch(sha)
                or subject.is_local or not same_subject(verdict.subject, subject)):
            raise ValueError("only a vision or not_vision verdict at a commit of a Hub repo can be adopted")
        now = time.time()
        expires = verdict.expires_at
        if verdict.kind is Kind.NOT_VISION:
            longest = verdict.created_at + self.settings.negative_ttl
            expires = longest if expires is None else min(expires, longest)
        if expires is not None and expires <= now:
            return "over"
        key = Keys.verdict(subject, sha, ANONYMOUS)
        failed = object()
        record = self.guarded(lambda: self.store.get(key), failed, "store read")
        if record is failed:
            return "failed"
        current = None
        if record is not None:
            try:
                current = decode_verdict(record)
            except ValueError:
                current = None
            if current is not None and (current.commit_sha != sha or not same_subject(current.subject, subject)
                                        or (current.expires_at is not None and current.expires_at <= now)):
                current = None  # not what this key should hold, or over: nothing usable
        if not prefer(current):
            return "declined"
        if dry_run:
            return "stored"
        kept = encode_verdict(verdict.replace(source=Source.STORE, expires_at=expires))
        ttl = None if expires is None else expires - now
        written = self.guarded(lambda: self.store.set(key, kept, ttl) or True, False,
                               "store write; the verdict is not kept")
        return "stored" if written else "failed"


_live: weakref.WeakSet[Ledger] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """Counts still pending when the interpreter exits reach the store (never raises), unless the
    process only answered from memory and the store: a read-only path never writes, so its last
    second of hit counts is not reported (counters are statistics, never verdicts)."""
    for ledger in list(_live):
        if set(ledger._pending_counts) - {"hits_memory", "hits_store"}:
            ledger.flush_counts()


def open_ledger(settings: Settings, fingerprint: Callable[[Question], str]) -> Ledger:
    """Open the configured store, bring its schema up to date, and wrap it in a ledger.

    A store that cannot be opened, was written by a newer release, or cannot be migrated now
    degrades to memory with one warning: this never raises for a store problem.
    """
    from .migrate import migrate
    from .stores import open_store

    try:
        store = open_store(settings.directory or default_directory(), settings.url, settings.redis_prefix,
                           replay=Keys.replayed, mirror=Keys.mirrored)
        migrate(store)
    except (StoreError, VisionCacheError) as exc:
        ledger = Ledger(_memory_store(), settings, fingerprint)
        ledger.warn_once("open", f"vision_cache: using a memory-only cache: {exc}")
        return ledger
    return Ledger(store, settings, fingerprint)



def _memory_store() -> Store:
    from .stores.memory import MemoryStore

    return MemoryStore()
