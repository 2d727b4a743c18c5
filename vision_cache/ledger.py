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

    verdict  <subject> <commit sha | local digest | @revision> <scope>  -> verdict record
    alias    <subject> <revision name> <scope>                          -> {sha, resolved_at, fresh_until}
    lease    <subject> <revision> <scope>                               -> owner token (single-flight)
    outcome  <owner token>                                              -> {evidence}: a failed attempt, for its waiters
    stats    <counter name>                                             -> int
    meta     schema | created | auth-secret | migration-lock | registry <identity> [lease]

``<subject>`` is ``hub:<repo id, ASCII lower-case>`` or ``local:<absolute path>``; ``<scope>`` is
``anonymous``, ``local`` or ``token:<HMAC of the token>``.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time

from ._log import logger
from ._tuples import NamedTuple
from .errors import StoreError, VisionCacheError
from .settings import Settings
from .stores.base import Store, decode_json
from .target import Subject, Target, same_subject
from .verdict import SHA_RE, Kind, Source, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

SEP = "\x1f"
STALE_WINDOW = 30 * 24 * 3600.0  # an expired alias is kept this long, to answer when the Hub is unreachable
_WAIT_POLL = 0.05
_MAX_TEXT = 4096
_SECRET_FORMAT = re.compile(r"[0-9a-f]{64}")
_MAX_TIME = 1 << 42  # unix seconds (year ~141,000): past this a stored time is planted, not written by us
_MAX_REMEMBERED = 4096  # entries in each of the ledger's hit-path memories (emptied when full)


class Keys:
    """Every key the package writes, by family. The single definition of the layout."""

    VERDICT, ALIAS, LEASE, OUTCOME, STATS, META = "verdict", "alias", "lease", "outcome", "stats", "meta"
    #: families that hold answers about a model (purge by model, ``ls``)
    MODEL_FAMILIES = (VERDICT, ALIAS, LEASE)
    #: families an operator's ``purge --all`` empties (schema, secret and counters stay)
    PURGEABLE = (VERDICT, ALIAS, LEASE, OUTCOME)

    SCHEMA = META + SEP + "schema"
    CREATED = META + SEP + "created"
    SECRET = META + SEP + "auth-secret"
    MIGRATION_LOCK = META + SEP + "migration-lock"

    @staticmethod
    def verdict(subject: Subject, version: str, scope: str) -> str:
        return SEP.join((Keys.VERDICT, subject.key, version, scope))

    @staticmethod
    def denial(subject: Subject, revision: str, scope: str) -> str:
        """A denial has no commit: it is stored under the revision name."""
        return SEP.join((Keys.VERDICT, subject.key, "@" + revision, scope))

    @staticmethod
    def alias(subject: Subject, revision: str, scope: str) -> str:
        return SEP.join((Keys.ALIAS, subject.key, revision, scope))

    @staticmethod
    def lease(subject: Subject, revision: str, scope: str) -> str:
        return SEP.join((Keys.LEASE, subject.key, revision, scope))

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
        return key.startswith((Keys.VERDICT + SEP, Keys.ALIAS + SEP))

    @staticmethod
    def mirrored(key: str) -> bool:
        """Entries kept in the local tier too, so that an outage later in this process still finds them."""
        return key == Keys.SECRET


class Alias(NamedTuple):
    sha: str
    resolved_at: float
    fresh_until: float

    @property
    def fresh(self) -> bool:
        return self.fresh_until > time.time()


class Entry(NamedTuple):
    """A stored verdict as ``vision-cache ls`` shows it."""

    verdict: Verdict
    version: str  # the commit sha / local digest, or "@revision" for a denial
    scope: str  # "anonymous", "local" or "token:<fingerprint>"


# -- records: encoding, and validation of what the store hands back --------------------------------


def encode_verdict(verdict: Verdict) -> dict[str, Any]:
    record = verdict.to_dict()
    del record["source"], record["is_vision"]
    return record


_STORED_KINDS = {kind.value: kind for kind in (Kind.VISION, Kind.NOT_VISION, Kind.DENIED)}


def decode_verdict(record: Any, source: Source = Source.STORE, revision: str | None = None) -> Verdict:
    """Rebuild a verdict from a stored record, validating every field (store contents are hostile).

    ``revision``: report the verdict as an answer for this revision name (a commit's verdict serves
    every name that resolves to it); default: the one stored.

    Raises:
        ValueError: the record is malformed (wrong type, unknown kind, bad sha, out-of-range time...).
    """
    if type(record) is not dict:
        raise ValueError("stored verdict is not an object")
    get = record.get
    kind, sha, created, expires = get("kind"), get("commit_sha"), get("created_at"), get("expires_at")
    subject, stored_revision, detector, evidence = get("subject"), get("revision"), get("detector"), get("evidence")
    if kind not in _STORED_KINDS:
        raise ValueError("stored verdict has no valid kind (an unknown verdict is never stored)")
    if sha is not None and not (type(sha) is str and SHA_RE.fullmatch(sha)):
        raise ValueError("stored commit_sha is not 40 hex digits")
    if not (_is_text(subject) and _is_text(detector) and _is_text(evidence)
            and (stored_revision is None or _is_text(stored_revision))):
        raise ValueError("stored verdict has a malformed text field")
    if not (_is_time(created) and (expires is None or _is_time(expires))):
        raise ValueError("stored verdict has a malformed time")
    return Verdict(
        kind=_STORED_KINDS[kind], source=source, subject=subject,
        revision=revision if revision is not None else stored_revision, commit_sha=sha,
        created_at=float(created), expires_at=None if expires is None else float(expires),
        detector=detector, evidence=evidence,
    )


def decode_alias(record: Any) -> Alias | None:
    if type(record) is not dict:
        return None
    sha, resolved, fresh = record.get("sha"), record.get("resolved_at"), record.get("fresh_until")
    if type(sha) is str and SHA_RE.fullmatch(sha) and _is_time(resolved) and _is_time(fresh):
        return Alias(sha, float(resolved), float(fresh))
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
        fingerprint: the current detector's fingerprint (called once, lazily: a ``vision`` hit
            never needs it).

    Thread-safe: one ledger may serve every thread of a process.
    """

    def __init__(self, store: Store, settings: Settings, fingerprint: Callable[[], str]) -> None:
        self.store = store
        self.settings = settings
        self._fingerprint_source = fingerprint
        self._fingerprint: str | None = None
        self._secret: bytes | None = None
        # the hit path's memory (docs/design.md, "The ledger"): validated records by their stored text,
        # aliases until their fresh_until, and which stored detector fingerprints are older than ours
        self._records: dict[str, tuple[str | bytes, str, Source, Verdict]] = {}
        self._aliases: dict[str, tuple[str, float]] = {}
        self._older: dict[str, bool] = {}
        self._warned: set[str] = set()
        self._pending_counts: dict[str, int] = {}
        self._counts_lock = threading.Lock()
        self._last_flush = time.monotonic()

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = self._fingerprint_source()
        return self._fingerprint

    # -- the guard -------------------------------------------------------------------------------

    def guarded(self, operation: Callable[[], Any], default: Any, what: str = "store operation") -> Any:
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

    # -- the secret and auth scopes ------------------------------------------------------------------

    def secret(self) -> bytes:
        """The per-install secret that keys auth-scope fingerprints: created once by whichever
        process gets there first (atomic ``add``), then read back so that every process agrees."""
        if self._secret is None:
            try:
                record = self.store.get(Keys.SECRET)
                if record is None:
                    self.store.add(Keys.SECRET, os.urandom(32).hex(), None)
                    record = self.store.get(Keys.SECRET)
                if not (type(record) is str and _SECRET_FORMAT.fullmatch(record)):
                    # Planted or damaged: replace it. Token-scoped verdicts become misses; nothing is
                    # served under a secret someone else chose.
                    self.warn_once("secret", "vision_cache: the store's secret was malformed; made a new one "
                                             "(verdicts stored for tokens will be detected again)")
                    record = os.urandom(32).hex()
                    self.store.set(Keys.SECRET, record, None)
                self._secret = bytes.fromhex(record)
            except StoreError as exc:
                self.degrade(str(exc))
                return self.secret()
        return self._secret

    def scope(self, token: str | None) -> str:
        from .target import auth_scope

        return auth_scope(token, self.secret()) if token is not None else auth_scope(None, b"")

    # -- reading: the hit path -----------------------------------------------------------------------

    def read(self, target: Target, version: str | None) -> Verdict | None:
        """The stored answer for ``target``: at ``version`` when it is known (one read), else through a
        fresh alias: one read when this process already knows the alias (until its ``fresh_until``), else
        two (the alias with the revision's denial, then the verdict). None: a miss.

        A known alias is only a shortcut to a key: the verdict itself is read every time, so a purge
        (which removes it) is seen on the next call; if it is gone, the alias is read again."""
        subject, scope = target.subject, target.scope
        if version is not None:
            return self._stored(target, Keys.verdict(subject, version, scope), version)
        alias_key = Keys.alias(subject, target.revision, scope)
        known = self._aliases.get(alias_key)
        if known is not None:
            if known[1] > time.time():
                found = self._stored(target, Keys.verdict(subject, known[0], scope), known[0])
                if found is not None:
                    return found
            self._aliases.pop(alias_key, None)
        alias_record, denial_record = self._get_many([alias_key, Keys.denial(subject, target.revision, scope)])
        alias = decode_alias(alias_record)
        if alias is not None and alias.fresh:
            found = self._stored(target, Keys.verdict(subject, alias.sha, scope), alias.sha)
            if found is not None:
                self._remember_alias(alias_key, alias.sha, alias.fresh_until)
                return found
        return self._verdict(target, denial_record, None)

    def read_many(self, reads: list[tuple[Target, str | None]]) -> list[Verdict | None]:
        """:meth:`read` for many ``(target, version)`` at once, in two batched store reads whatever their
        number (three if some fresh alias's verdict is gone): the verdicts at known versions with the
        aliases of the others; then the verdicts at the fresh aliases' commits with the other names'
        denials. The same answers as :meth:`read`, one by one."""
        keys = [Keys.verdict(t.subject, v, t.scope) if v is not None else Keys.alias(t.subject, t.revision, t.scope)
                for t, v in reads]
        answers: list[Verdict | None] = [None] * len(reads)
        then: list[tuple[int, str, Alias | None]] = []  # (index, key to read next, the fresh alias if any)
        for index, ((target, version), record) in enumerate(zip(reads, self._get_many(keys), strict=True)):
            if version is not None:
                answers[index] = self._verdict(target, record, version)
                continue
            alias = decode_alias(record)
            if alias is not None and alias.fresh:
                then.append((index, Keys.verdict(target.subject, alias.sha, target.scope), alias))
            else:
                then.append((index, Keys.denial(target.subject, target.revision, target.scope), None))
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
            records = self._get_many([Keys.denial(reads[i][0].subject, reads[i][0].revision, reads[i][0].scope)
                                      for i in denials])
            for index, record in zip(denials, records, strict=True):
                answers[index] = self._verdict(reads[index][0], record, None)
        return answers

    def verdict_at(self, target: Target, sha: str, source: Source = Source.STORE) -> Verdict | None:
        """The stored verdict at commit ``sha`` for this scope, if still good."""
        return self._stored(target, Keys.verdict(target.subject, sha, target.scope), sha, source)

    def alias(self, target: Target) -> Alias | None:
        """The alias of ``target.revision``, fresh or not (a stale one may answer offline)."""
        return decode_alias(self._get(Keys.alias(target.subject, target.revision, target.scope)))

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
            verdict = self._validated(target, record, version, source)
            if verdict is None:
                return None
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
            verdict = decode_verdict(record, source, target.revision)
        except ValueError as exc:
            self.warn_once("malformed", f"vision_cache: ignoring a malformed store entry ({exc})")
            return None
        if verdict.commit_sha != version or not same_subject(verdict.subject, target.subject):
            return None  # not what this key should hold: treat as a miss
        return verdict

    def _current(self, verdict: Verdict) -> bool:
        """Whether a valid stored verdict may still be served: not expired, and not a negative from an
        older detector (an upgraded detector may know better: negatives are re-checked, positives stand)."""
        if verdict.expires_at is not None and verdict.expires_at <= time.time():
            return False
        if verdict.kind is Kind.NOT_VISION and verdict.detector != self.fingerprint:
            older = self._older.get(verdict.detector)
            if older is None:
                from .fingerprint import is_older

                if len(self._older) >= _MAX_REMEMBERED:
                    self._older.clear()
                older = self._older[verdict.detector] = is_older(verdict.detector, self.fingerprint)
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

    def record(self, target: Target, sha: str | None, kind: Kind, evidence: str,
               source: Source = Source.DETECTED, keep: bool = True) -> Verdict:
        """Build the verdict for a finished detection and, if ``keep`` and it is an answer, store it
        for its kind's lifetime. ``unknown`` is never stored."""
        now = time.time()
        if kind is Kind.UNKNOWN:
            return Verdict(kind=kind, source=source, subject=target.subject.name, revision=target.revision,
                           commit_sha=sha, created_at=now, expires_at=None, detector=self.fingerprint,
                           evidence=evidence)
        if kind is Kind.DENIED:
            sha = None  # a denial has no commit
        ttl = {Kind.VISION: None, Kind.NOT_VISION: self.settings.negative_ttl,
               Kind.DENIED: self.settings.denied_ttl}[kind]
        verdict = Verdict(kind=kind, source=source, subject=target.subject.name, revision=target.revision,
                          commit_sha=sha, created_at=now, expires_at=None if ttl is None else now + ttl,
                          detector=self.fingerprint, evidence=evidence)
        if keep:
            key = (Keys.denial(target.subject, target.revision, target.scope) if sha is None
                   else Keys.verdict(target.subject, sha, target.scope))
            self._set(key, encode_verdict(verdict), ttl, "store write; the verdict is not kept")
        return verdict

    def write_alias(self, target: Target, revision: str, sha: str) -> None:
        """Remember that ``revision`` pointed at ``sha`` for this scope: fresh for alias_ttl, then stale-only."""
        now = time.time()
        key = Keys.alias(target.subject, revision, target.scope)
        self._set(key, {"sha": sha, "resolved_at": now, "fresh_until": now + self.settings.alias_ttl},
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
        - If the holder dies its lease expires within ``lease_ttl`` and a waiter takes over; a waiter
          gives up (``unknown``) after the longest a healthy detection takes.
        - If the store fails, detect without it.
        """
        from .lease import Lease

        lease = Lease(self.store, Keys.lease(target.subject, target.revision, target.scope), self.settings.lease_ttl)
        give_up = time.monotonic() + self.settings.lease_ttl + self.settings.hub_timeout + self.settings.sidecar_timeout
        try:
            acquired = lease.try_acquire()
            holder, waited = None, False
            while not acquired:
                current = self.store.get(lease.key)  # waiters read; only a free lease is worth a write
                if holder is not None and current != holder:  # the attempt we waited on has ended
                    shared = self._shared_failure(target, holder)
                    if shared is not None:
                        return shared
                if current is None:
                    holder = None
                    acquired = lease.try_acquire()
                    continue
                if holder is None:
                    self.count("lease_waits")
                holder, waited = current, True
                time.sleep(_WAIT_POLL)
                answer = self.read(target, version)
                if answer is not None:
                    return answer
                if time.monotonic() > give_up:
                    return self.record(target, None, Kind.UNKNOWN,
                                       "another process has been detecting this model for too long")
        except StoreError as exc:
            self.warn_once("store read", f"vision_cache: store unavailable, detecting without it ({exc})")
            return detect()
        try:
            stale_miss = waited or missed_at is None or time.monotonic() - missed_at > _WAIT_POLL
            again = self.read(target, version) if version is not None or stale_miss else None
            if again is not None:
                return again
            verdict = detect()
            if verdict.kind is Kind.UNKNOWN:  # tell the waiters that overlapped this attempt
                self._set(Keys.outcome(lease.owner), {"evidence": verdict.evidence[:_MAX_TEXT]},
                          self.settings.lease_ttl, "store write")
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

    def entries(self, subject: Subject | None = None) -> Iterator[Entry]:
        """Every well-formed stored verdict (of ``subject`` if given); malformed records are skipped."""
        for key, record, _ in self.scan(Keys.family(Keys.VERDICT, subject)):
            parts = Keys.split(key)
            if len(parts) != 4:
                continue  # not written by us
            try:
                verdict = decode_verdict(record)
            except ValueError:
                continue
            yield Entry(verdict, parts[2], parts[3])

    def delete(self, keys: list[str]) -> int:
        removed = 0
        for key in dict.fromkeys(keys):
            removed += bool(self.guarded(lambda k=key: self.store.delete(k), False, "store write"))
        return removed

    def expire(self) -> int:
        """Drop expired entries now; how many were dropped."""
        return self.guarded(self.store.expire, 0, "store write")

    def close(self) -> None:
        self.flush_counts()
        self.store.close()


def open_ledger(settings: Settings, fingerprint: Callable[[], str]) -> Ledger:
    """Open the configured store, bring its schema up to date, and wrap it in a ledger.

    A store that cannot be opened, was written by a newer release, or cannot be migrated now
    degrades to memory with one warning: this never raises for a store problem.
    """
    from .migrate import migrate
    from .stores import open_store

    try:
        store = open_store(settings.directory or _default_directory(), settings.url, settings.redis_prefix,
                           replay=Keys.replayed, mirror=Keys.mirrored)
        migrate(store)
    except (StoreError, VisionCacheError) as exc:
        ledger = Ledger(_memory_store(), settings, fingerprint)
        ledger.warn_once("open", f"vision_cache: using a memory-only cache: {exc}")
        return ledger
    return Ledger(store, settings, fingerprint)


def _default_directory() -> str:
    from .settings import default_directory

    return default_directory()


def _memory_store() -> Store:
    from .stores.memory import MemoryStore

    return MemoryStore()
