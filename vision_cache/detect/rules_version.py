"""The version of the rules in :mod:`.rules`, in a module of its own so that a hit can read it.

A stored ``not_vision`` is judged against the running detector's fingerprint, which names this
version; importing :mod:`.rules` for it would cost a hit more than the rest of the lookup.

Bump :data:`RULES_VERSION` whenever a change to the rules could turn a ``not_vision`` into
``vision``: stored negatives are re-checked when it changes.
"""

RULES_VERSION = 4
