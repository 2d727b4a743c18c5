"""What an operator does to a store: list, purge, count, migrate. Everything goes through the ledger.

The CLI (``vision-cache ls / purge / stats / migrate``) and :class:`~vision_cache.VisionCache`'s
``entries`` / ``purge`` / ``stats`` methods are thin layers over these functions.
"""

from __future__ import annotations

from typing import Any

from .ledger import Entry, Keys, Ledger
from .target import parse_subject
from .verdict import Kind


def entries(ledger: Ledger, model_name: str | None = None) -> list[Entry]:
    """Every stored verdict (of one model if given), newest first.

    Raises:
        InvalidModelNameError: ``model_name`` is not a usable name.
    """
    subject = parse_subject(model_name) if model_name is not None else None
    return sorted(ledger.entries(subject), key=lambda e: e.verdict.created_at, reverse=True)


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
        doomed += [key for key, record, _ in ledger.scan(Keys.family(Keys.VERDICT))
                   if isinstance(record, dict) and record.get("kind") == Kind.DENIED.value]
    return removed + ledger.delete(doomed)


def stats(ledger: Ledger) -> dict[str, Any]:
    """Counters of every process sharing the store, entries by kind, and the store's size."""
    by_kind = dict.fromkeys([k.value for k in Kind if k is not Kind.UNKNOWN], 0)
    for entry in ledger.entries():
        by_kind[entry.verdict.kind.value] += 1
    store = ledger.store
    return {
        "store": {"kind": store.kind, "location": store.location, "size_bytes": store.size_bytes()},
        "counters": ledger.counters(),
        "entries": by_kind,
        "aliases": len(ledger.scan(Keys.family(Keys.ALIAS))),
    }
