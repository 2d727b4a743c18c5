"""The answer vision_cache gives: a :class:`Verdict`, and its JSON form in a store.

How a verdict is stored, and the validation of what a store hands back, belong to
:mod:`vision_cache.ledger`.
"""

from __future__ import annotations

import enum
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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


_FIELDS = ("kind", "source", "subject", "revision", "commit_sha", "created_at", "expires_at", "detector",
           "evidence")


class Verdict:
    """Whether a model is a vision-language model, and why we think so. Immutable.

    ``is_vision`` is True only for ``Kind.VISION``; every other kind answers False, as Studio's
    ``is_vision_model()`` always has. Attributes:

    - ``kind``: a :class:`Kind`; ``source``: a :class:`Source`;
    - ``subject``: the repo id as the caller spelled it, or the absolute local path;
    - ``revision``: the revision asked for ("main" when none was given);
    - ``commit_sha``: the commit (or local content digest) the verdict describes; None for a denial;
    - ``created_at``: unix time of detection; ``expires_at``: when it is re-detected (None: never);
    - ``detector``: fingerprint of the rules that produced it; ``evidence``: the deciding signal.

    A plain class with slots rather than a dataclass or a tuple: no unpacking by position, no tuple
    equality, and nothing extra to import on the hit path.
    """

    __slots__ = _FIELDS
    kind: Kind
    source: Source
    subject: str
    revision: str | None
    commit_sha: str | None
    created_at: float
    expires_at: float | None
    detector: str
    evidence: str

    def __init__(self, *, kind: Kind, source: Source, subject: str, revision: str | None, commit_sha: str | None,
                 created_at: float, expires_at: float | None, detector: str, evidence: str) -> None:
        set_ = object.__setattr__
        set_(self, "kind", kind)
        set_(self, "source", source)
        set_(self, "subject", subject)
        set_(self, "revision", revision)
        set_(self, "commit_sha", commit_sha)
        set_(self, "created_at", created_at)
        set_(self, "expires_at", expires_at)
        set_(self, "detector", detector)
        set_(self, "evidence", evidence)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Verdict is immutable; use replace()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Verdict is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Verdict:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return (f"Verdict(kind={self.kind.value}, source={self.source.value}, subject={self.subject!r}, "
                f"revision={self.revision!r}, commit_sha={self.commit_sha!r}, evidence={self.evidence!r})")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (e.g. returned from a worker process)
        return (_rebuild, (self._values(),))

    @property
    def is_vision(self) -> bool:
        return self.kind is Kind.VISION

    def __bool__(self) -> bool:  # so that `if cache.lookup(...)` reads naturally
        return self.is_vision

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (used by ``--json``, and by the ledger to store it)."""
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

    def replace(self, **changes: Any) -> Verdict:
        """A copy with ``changes`` applied."""
        values = dict(zip(_FIELDS, self._values(), strict=True))
        values.update(changes)
        return Verdict(**values)

    def with_source(self, source: Source) -> Verdict:
        return self.replace(source=source)


def _rebuild(values: tuple[Any, ...]) -> Verdict:
    return Verdict(**dict(zip(_FIELDS, values, strict=True)))
