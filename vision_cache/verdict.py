"""The answer vision_cache gives: a :class:`Verdict`, and its JSON form in a store.

Store contents are treated as hostile: :func:`Verdict.from_record` accepts only a record
whose every field has the expected type and range, and raises :class:`ValueError` otherwise
(callers treat that as a miss).
"""

from __future__ import annotations

import enum
import math
import re
from typing import Any, NamedTuple

SHA_RE = re.compile(r"[0-9a-f]{40}")


class Kind(str, enum.Enum):
    """What the detector concluded."""

    VISION = "vision"  # read the model at this content version: it is a VLM (stored as long as the commit)
    NOT_VISION = "not_vision"  # read it: it is not (stored for negative_ttl)
    DENIED = "denied"  # not found, gated or unauthorised for this auth scope (stored for denied_ttl)
    UNKNOWN = "unknown"  # timeout, connection error, 5xx...: never stored as an answer


class Source(str, enum.Enum):
    """Where this particular answer came from."""

    MEMORY = "memory"  # this process's short-lived memory tier
    STORE = "store"  # the shared store (disk or Redis)
    DETECTED = "detected"  # detected just now
    STALE = "stale"  # offline or Hub unreachable: an expired alias or the HF cache's refs/ answered


class Verdict(NamedTuple):
    """Whether a model is a vision-language model, and why we think so.

    ``is_vision`` is True only for ``Kind.VISION``; every other kind answers False, as Studio's
    ``is_vision_model()`` always has.
    """

    kind: Kind
    source: Source
    subject: str  # the repo id as the caller spelled it, or the absolute local path
    revision: str | None  # the revision asked for ("main" when none was given)
    commit_sha: str | None  # the commit (or local content digest) the verdict describes
    created_at: float  # unix time of detection
    expires_at: float | None  # unix time after which it is re-detected; None: as long as the commit
    detector: str  # fingerprint of the rules that produced it
    evidence: str  # the signal that decided it, for humans

    @property
    def is_vision(self) -> bool:
        return self.kind is Kind.VISION

    def __bool__(self) -> bool:  # so that `if cache.lookup(...)` reads naturally
        return self.is_vision

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (used by ``--json`` and by the stores)."""
        return {
            "is_vision": self.is_vision,
            "kind": self.kind.value,
            "source": self.source.value,
            "subject": self.subject,
            "revision": self.revision,
            "commit_sha": self.commit_sha,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "detector": self.detector,
            "evidence": self.evidence,
        }

    def to_record(self) -> dict[str, Any]:
        """The form stored in a shared store: everything but the per-answer ``source``."""
        record = self.to_dict()
        del record["source"], record["is_vision"]
        return record

    @classmethod
    def from_record(cls, record: Any, source: Source = Source.STORE, revision: str | None = None) -> Verdict:
        """Rebuild a verdict from a stored record, validating every field.

        ``revision``: report the verdict as an answer for this revision name (a commit's verdict
        serves every name that resolves to it); default: the one stored.

        Raises:
            ValueError: the record is malformed (wrong type, unknown kind, bad sha...).
        """
        if not isinstance(record, dict):
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
        if not (_is_number(created) and (expires is None or _is_number(expires))):
            raise ValueError("stored verdict has a malformed time")
        return cls(
            kind=_STORED_KINDS[kind],
            source=source,
            subject=subject,
            revision=revision if revision is not None else stored_revision,
            commit_sha=sha,
            created_at=float(created),
            expires_at=None if expires is None else float(expires),
            detector=detector,
            evidence=evidence,
        )

    def with_source(self, source: Source) -> Verdict:
        return self._replace(source=source)


_STORED_KINDS = {kind.value: kind for kind in (Kind.VISION, Kind.NOT_VISION, Kind.DENIED)}


def _is_text(value: Any) -> bool:
    return type(value) is str and len(value) <= 4096


def _is_number(value: Any) -> bool:
    if type(value) is int:
        return -(1 << 53) < value < (1 << 53)  # a planted 10**400 must not overflow float()
    return type(value) is float and math.isfinite(value)
