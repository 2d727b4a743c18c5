"""What an operator does to a store: list, purge, count, migrate. Everything goes through the ledger.

The CLI (``vision-cache ls / purge / stats / migrate``) and :class:`~vision_cache.VisionCache`'s
``entries`` / ``purge`` / ``stats`` methods are thin layers over these functions.
"""

from __future__ import annotations

from typing import Any

from .ledger import Entry, Keys, Ledger
from .target import parse_question, parse_subject
from .verdict import Kind, Question


def entries(ledger: Ledger, model_name: str | None = None, question: Question | str | None = None) -> list[Entry]:
    """Every stored verdict (of one model, and answering one question, if given), newest first.

    Raises:
        InvalidModelNameError, InvalidQuestionError: a bad ``model_name`` or ``question``.
    """
    subject = parse_subject(model_name) if model_name is not None else None
    questions = tuple(Question) if question is None else (parse_question(question),)
    return sorted(ledger.entries(subject, questions), key=lambda e: e.verdict.created_at, reverse=True)


def purge(ledger: Ledger, model_name: str | None = None, *, expired: bool = False, denied: bool = False,
          everything: bool = False) -> int:
    """Delete entries: every entry of ``model_name``; ``expired`` ones; ``denied`` verdicts; or
    ``everything`` (verdicts, aliases, leases and outcomes; the schema, secret and counters stay).

    Returns how many entries were removed. Raises InvalidModelNameError for a bad ``model_name``.
    """
    removed = ledger.expire() if expired else 0
    doomed: list[str] = []
    if model_name is not None:
        subject = parse_subject(model_name)
        for family in Keys.MODEL_FAMILIES:
            doomed += [key for key, _, _ in ledger.scan(Keys.family(family, subject))]
    if everything:
        for family in Keys.PURGEABLE:
            doomed += [key for key, _, _ in ledger.scan(Keys.family(family))]
    if denied:
        for family in Keys.ANSWERS.values():
            doomed += [key for key, record, _ in ledger.scan(Keys.family(family))
                       if isinstance(record, dict) and record.get("kind") == Kind.DENIED.value]
    return removed + ledger.delete(doomed)


def stats(ledger: Ledger) -> dict[str, Any]:
    """Counters of every process sharing the store, entries by question and kind, and the store's size."""
    by_kind: dict[str, dict[str, int]] = {q.value: {} for q in Question}
    for entry in ledger.entries():
        kinds = by_kind[entry.verdict.question.value]
        kinds[entry.verdict.kind.value] = kinds.get(entry.verdict.kind.value, 0) + 1
    store = ledger.store
    return {
        "store": {"kind": store.kind, "location": store.location, "size_bytes": store.size_bytes()},
        "counters": ledger.counters(),
        "entries": by_kind,
        "aliases": len(ledger.scan(Keys.family(Keys.ALIAS))),
    }
