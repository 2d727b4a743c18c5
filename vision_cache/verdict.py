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
    """What the detector concluded.

    The vision question answers ``VISION`` / ``NOT_VISION``; the other questions (audio type,
    embedding) answer ``POSITIVE`` (with the answer in ``Verdict.answer``) / ``NEGATIVE``. Positives
    live as long as the commit, negatives for their question's negative lifetime.
    """

    VISION = "vision"  # read the model at this content version: it is a VLM (stored as long as the commit)
    NOT_VISION = "not_vision"  # read it: it is not (stored for negative_ttl)
    POSITIVE = "positive"  # another question, answered yes (an audio type; an embedding model)
    NEGATIVE = "negative"  # another question, answered no (no audio type; not an embedding model)
    DENIED = "denied"  # not found, gated or unauthorised for this auth scope (stored for denied_ttl)
    UNKNOWN = "unknown"  # timeout, connection error, 5xx...: never stored as an answer

    @property
    def is_answer(self) -> bool:
        """A definitive answer about the content (not a denial, not unknown)."""
        return self in (Kind.VISION, Kind.NOT_VISION, Kind.POSITIVE, Kind.NEGATIVE)

    @property
    def is_positive(self) -> bool:
        return self in (Kind.VISION, Kind.POSITIVE)


class Question(str, enum.Enum):
    """What a verdict answers (Studio's per-model questions)."""

    VISION = "vision"  # is_vision_model: a bool
    AUDIO_TYPE = "audio_type"  # detect_audio_type: "snac", "csm", "bicodec", "dac", "whisper", "audio_vlm" or None
    EMBEDDING = "embedding"  # is_embedding_model: a bool


class Source(str, enum.Enum):
    """Where this particular answer came from."""

    MEMORY = "memory"  # this process's short-lived memory tier
    STORE = "store"  # the shared store (disk or Redis)
    DETECTED = "detected"  # detected just now
    STALE = "stale"  # offline or Hub unreachable: an expired alias or the HF cache's refs/ answered


_FIELDS = ("kind", "source", "subject", "revision", "commit_sha", "created_at", "expires_at", "detector",
           "evidence", "question", "answer")


class Verdict:
    """Whether a model is a vision-language model, and why we think so. Immutable.

    ``is_vision`` is True only for ``Kind.VISION``; every other kind answers False, as Studio's
    ``is_vision_model()`` always has. Attributes:

    - ``kind``: a :class:`Kind`; ``source``: a :class:`Source`;
    - ``subject``: the repo id as the caller spelled it, or the absolute local path;
    - ``revision``: the revision asked for ("main" when none was given);
    - ``commit_sha``: the commit (or local content digest) the verdict describes; None for a denial;
    - ``created_at``: unix time of detection; ``expires_at``: when it is re-detected (None: never);
    - ``detector``: fingerprint of the rules that produced it; ``evidence``: the deciding signal;
    - ``question``: a :class:`Question` (``vision`` unless asked otherwise); ``answer``: the answer in
      the drop-in's terms: a bool for ``vision`` and ``embedding``, an audio type or None for
      ``audio_type`` (a denial or unknown answers False / None).

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
    question: Question
    answer: bool | str | None

    def __init__(self, *, kind: Kind, source: Source, subject: str, revision: str | None, commit_sha: str | None,
                 created_at: float, expires_at: float | None, detector: str, evidence: str,
                 question: Question = Question.VISION, answer: bool | str | None = None) -> None:
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
        set_(self, "question", question)
        if answer is None and question is not Question.AUDIO_TYPE:
            answer = kind.is_positive
        set_(self, "answer", answer)

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
        about = "" if self.question is Question.VISION else f"question={self.question.value}, answer={self.answer!r}, "
        return (f"Verdict({about}kind={self.kind.value}, source={self.source.value}, subject={self.subject!r}, "
                f"revision={self.revision!r}, commit_sha={self.commit_sha!r}, evidence={self.evidence!r})")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (e.g. returned from a worker process)
        return (_rebuild, (self._values(),))

    @property
    def is_vision(self) -> bool:
        return self.kind is Kind.VISION

    def __bool__(self) -> bool:  # so that `if cache.lookup(...)` reads naturally
        return bool(self.answer)

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
            "question": self.question.value,
            "answer": self.answer,
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
