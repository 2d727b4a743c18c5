"""The portable form of verdicts: one versioned JSON record, and bundles of them between stores.

**The verdict record** (``vision_cache.verdict/1``) is the one JSON shape of a verdict outside a
store: ``vision-cache detect --json``, ``ls --json`` and bundles all print :func:`verdict_record`.
Its fields are :data:`RECORD_FIELDS`; README.md, "The verdict record", documents each one. A
change to the set of fields or their meaning is a new schema version.

**A bundle** is JSON lines: a header (:data:`BUNDLE_SCHEMA`, and the store schema of the release
that wrote it), then one verdict record per line. :func:`export_bundle` writes only what is true
for anybody: definitive verdicts (``vision`` / ``not_vision``) of Hub repos at a commit sha in the
``anonymous`` scope, each with the fingerprint of the detector that produced it. Never a denial,
never a verdict obtained with a token, never a local path.

:func:`import_bundle` treats a bundle as hostile input: a line longer than :data:`MAX_LINE` is
skipped without being held in memory, and every record is checked field by field (with the
ledger's own :func:`~vision_cache.ledger.decode_verdict`) before the ledger adopts it, only ever
into the ``anonymous`` scope and never as ``denied``. On a conflict the answer of the newer
detector stands (:func:`vision_cache.fingerprint.is_older`). It reports what it took and what it
skipped, by reason.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, NamedTuple

from .ledger import Entry, Ledger, decode_verdict
from .target import ANONYMOUS, Subject
from .verdict import Kind, Question, Verdict

VERDICT_SCHEMA = "vision_cache.verdict/1"
BUNDLE_SCHEMA = "vision_cache.bundle/1"
#: The question bundles carry (the answers to the other questions are cheap to learn again).
QUESTION = "vision"
#: Every field of a verdict record, in the order they are written. Documented in README.md.
RECORD_FIELDS = ("schema", "model", "question", "kind", "answer", "is_vision", "source", "subject", "revision",
                 "commit_sha", "scope", "created_at", "expires_at", "detector", "evidence")
#: The longest bundle line read; a longer one is skipped (and never held in memory whole).
MAX_LINE = 64 * 1024
#: How far in the future a record's ``created_at`` may lie (clock skew between hosts).
CLOCK_SKEW = 300.0

#: Reasons a record was taken.
TAKEN = ("new", "replaced")
#: Reasons a sound record was not taken ("not_kept": the store failed; the ledger warned).
PASSED_OVER = ("unchanged", "kept_stored", "expired", "not_kept")
#: Reasons a record was refused as malformed or not importable.
REFUSED = ("too_long", "not_json", "schema", "question", "token_scope", "scope", "denied", "kind", "subject",
           "detector", "invalid")

_DETECTOR = re.compile(r"[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.+-]{1,64}( [A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.+-]{1,64}){0,7}")
_DEFINITIVE = (Kind.VISION.value, Kind.NOT_VISION.value)


def verdict_record(verdict: Verdict, *, scope: str, model: str | None = None) -> dict[str, Any]:
    """The verdict record (``vision_cache.verdict/1``) of ``verdict``: the one JSON form shared by
    ``detect --json``, ``ls --json`` and bundles.

    Args:
        verdict: the verdict.
        scope: the auth scope it is stored under (``anonymous``, ``local`` or ``token:<fingerprint>``).
        model: the name it was asked for (default: its subject).
    """
    return {
        "schema": VERDICT_SCHEMA,
        "model": verdict.subject if model is None else model,
        "question": verdict.question.value,
        "kind": verdict.kind.value,
        "answer": verdict.answer,
        "is_vision": verdict.is_vision,
        "source": verdict.source.value,
        "subject": verdict.subject,
        "revision": verdict.revision,
        "commit_sha": verdict.commit_sha,
        "scope": scope,
        "created_at": verdict.created_at,
        "expires_at": verdict.expires_at,
        "detector": verdict.detector,
        "evidence": verdict.evidence,
    }


# -- export ---------------------------------------------------------------------------------------


class ExportReport(NamedTuple):
    exported: int
    skipped: dict[str, int]  # by reason: denied, token_scope, local, expired, malformed

    def to_dict(self) -> dict[str, Any]:
        return {"exported": self.exported, "skipped": dict(self.skipped)}


def export_bundle(ledger: Ledger, out: IO[bytes], entries: Iterable[Entry] | None = None) -> ExportReport:
    """Write the bundle of ``entries`` (default: every stored verdict) to ``out``: the header, then the
    public definitive verdicts among them, sorted by repo and commit. What is left out is counted."""
    from . import __version__
    from .migrate import latest_version

    now = time.time()
    skipped: dict[str, int] = {}
    chosen: dict[tuple[str, str], Verdict] = {}
    for entry in ledger.entries(questions=(Question.VISION,)) if entries is None else entries:
        reason = _unexportable(entry, now)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        assert entry.verdict.commit_sha is not None
        chosen[(entry.verdict.subject.lower(), entry.verdict.commit_sha)] = entry.verdict
    header = {"schema": BUNDLE_SCHEMA, "store_schema": latest_version(), "created_at": now,
              "generator": f"vision_cache {__version__}"}
    out.write(_line(header))
    for key in sorted(chosen):
        out.write(_line(verdict_record(chosen[key], scope=ANONYMOUS)))
    out.flush()
    return ExportReport(len(chosen), skipped)


def _unexportable(entry: Entry, now: float) -> str | None:
    verdict = entry.verdict
    if verdict.question is not Question.VISION:
        return "question"
    if entry.scope != ANONYMOUS:
        return "token_scope" if entry.scope.startswith("token:") else "local"
    if verdict.kind is Kind.DENIED:
        return "denied"
    if verdict.expires_at is not None and verdict.expires_at <= now:
        return "expired"
    if verdict.commit_sha is None or entry.version != verdict.commit_sha:
        return "malformed"
    try:
        hub_subject(verdict.subject)
    except ValueError:
        return "malformed"
    return None


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii") + b"\n"


# -- import ---------------------------------------------------------------------------------------


class ImportReport(NamedTuple):
    taken: dict[str, int]  # by reason: new, replaced
    skipped: dict[str, int]  # by reason: PASSED_OVER and REFUSED
    dry_run: bool

    @property
    def imported(self) -> int:
        return sum(self.taken.values())

    @property
    def refused(self) -> int:
        """Records refused as malformed or not importable (passed-over ones are not counted)."""
        return sum(count for reason, count in self.skipped.items() if reason in REFUSED)

    @property
    def ok(self) -> bool:
        """Nothing refused, and the store kept everything taken."""
        return self.refused == 0 and not self.skipped.get("not_kept")

    def to_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "taken": dict(self.taken), "skipped": dict(self.skipped),
                "refused": self.refused, "dry_run": self.dry_run}


def import_bundle(ledger: Ledger, source: IO[bytes], *, dry_run: bool = False) -> ImportReport:
    """Adopt the verdicts of the bundle read from ``source`` into the ledger's store (nothing with
    ``dry_run``), record by record; see the module docstring for what is refused.

    Raises:
        ValueError: the bundle as a whole is unusable (no or malformed header, a bundle format or
            store schema newer than this release reads); nothing was written.
    """
    lines = _bounded_lines(source, MAX_LINE)
    header = next(lines, b"")
    if header is None:
        raise ValueError(f"the bundle's header line is longer than {MAX_LINE // 1024} KiB: not a vision_cache bundle")
    _check_header(header)
    taken: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for line in lines:
        if line is not None and not line.strip():
            continue
        outcome, reason = _import_line(ledger, line, dry_run)
        tally = taken if outcome else skipped
        tally[reason] = tally.get(reason, 0) + 1
    return ImportReport(taken, skipped, dry_run)


def _check_header(line: bytes) -> None:
    from .migrate import latest_version

    try:
        header = _parse(line)
    except ValueError:
        header = None
    if type(header) is not dict or type(header.get("schema")) is not str:
        raise ValueError("not a vision_cache bundle: the first line is not a bundle header")
    schema, store_schema = header["schema"], header.get("store_schema")
    if schema != BUNDLE_SCHEMA:
        name, _, version = schema.partition("/")
        if name == BUNDLE_SCHEMA.partition("/")[0] and version.isdigit() and len(version) < 6:
            raise ValueError(f"the bundle has format {name}/{int(version)}, and this release reads {BUNDLE_SCHEMA} "
                             "only; upgrade vision_cache to import it")
        raise ValueError("not a vision_cache bundle: unknown header schema")
    if type(store_schema) is not int or store_schema < 1:
        raise ValueError("the bundle's header has no valid store_schema")
    if store_schema > latest_version():
        raise ValueError(f"the bundle comes from a store with schema {store_schema}, newer than this release's "
                         f"{latest_version()}; upgrade vision_cache to import it")


def _import_line(ledger: Ledger, line: bytes | None, dry_run: bool) -> tuple[bool, str]:
    """``(taken, reason)`` for one bundle line (None: a line that was too long)."""
    from .fingerprint import is_older

    if line is None:
        return False, "too_long"
    try:
        record = _parse(line)
    except ValueError:
        return False, "not_json"
    if type(record) is not dict:
        return False, "not_json"
    refusal = _refusal(record)
    if refusal is not None:
        return False, refusal
    try:
        verdict = decode_verdict(record)
    except ValueError:
        return False, "invalid"
    if verdict.commit_sha is None or verdict.created_at > time.time() + CLOCK_SKEW:
        return False, "invalid"
    try:
        subject = hub_subject(verdict.subject)
    except ValueError:
        return False, "subject"
    reason = "new"

    def prefer(current: Verdict | None) -> bool:
        nonlocal reason
        if current is None:
            reason = "new"
            return True
        if current.kind is verdict.kind and current.detector == verdict.detector:
            reason = "unchanged"
            return False
        if is_older(current.detector, verdict.detector):
            reason = "replaced"  # the bundle's detector is newer: its answer stands
            return True
        reason = "kept_stored"  # the stored answer is from the same or a newer detector
        return False

    outcome = ledger.adopt(subject, verdict, prefer, dry_run=dry_run)
    if outcome == "stored":
        return True, reason
    return False, {"declined": reason, "over": "expired"}.get(outcome, "not_kept")


def _refusal(record: dict[str, Any]) -> str | None:
    """Why a parsed record is not importable, checking what ``decode_verdict`` does not."""
    if record.get("schema") != VERDICT_SCHEMA:
        return "schema"
    if set(record) != set(RECORD_FIELDS):
        return "invalid"
    if record["question"] != QUESTION:
        return "question"
    scope = record["scope"]
    if scope != ANONYMOUS:
        return "token_scope" if type(scope) is str and scope.startswith("token:") else "scope"
    kind = record["kind"]
    if kind not in _DEFINITIVE:
        return "denied" if kind == Kind.DENIED.value else "kind"
    if record["is_vision"] is not (kind == Kind.VISION.value):
        return "invalid"
    model, source, detector = record["model"], record["source"], record["detector"]
    if not (type(model) is str and len(model) <= 4096 and model.isprintable()) or type(source) is not str:
        return "invalid"
    if not (type(detector) is str and _DETECTOR.fullmatch(detector)):
        return "detector"
    return None


def hub_subject(name: str) -> Subject:
    """The Hub repo ``name`` read from a bundle, checked with huggingface_hub's rules.

    Unlike :func:`vision_cache.target.parse_subject` it never looks at the file system: a bundle's
    name is a Hub repo id whatever the current folder holds.

    Raises:
        ValueError: not a valid Hub repo id.
    """
    from .target import validate_hub_subject

    if not (type(name) is str and name.isascii() and name.isprintable() and 0 < len(name) <= 200):
        raise ValueError("not a Hub repo id")
    subject = Subject("hub", name, name.lower())  # ASCII only, so lower() is the ASCII folding of target.py
    validate_hub_subject(subject)  # InvalidModelNameError is a ValueError
    return subject


def _parse(line: bytes) -> Any:
    """One JSON value; ValueError for anything else (bad UTF-8, NaN, absurd nesting or numbers)."""
    try:
        return json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _bounded_lines(stream: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """The lines of ``stream`` without their end of line; None for a line longer than ``limit``
    bytes, which is read past in ``limit``-sized pieces rather than held in memory."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1].rstrip(b"\r")
        elif len(line) <= limit:
            yield line.rstrip(b"\r")  # the last line, without an end of line
        else:
            while True:
                piece = stream.readline(limit)
                if not piece or piece.endswith(b"\n"):
                    break
            yield None
