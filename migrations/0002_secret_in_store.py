"""Schema 2: the per-install secret lives in the store, as a JSON entry the ledger makes and reads.

Release 0.1.0 kept it outside the JSON entries: a ``secret.key`` file (64 hex digits) beside a
disk store's database, or bare hex text under ``meta\\x1fsecret`` in Redis. This step copies it to
the ledger's ``Keys.SECRET`` (an ``add``: never replacing one already there), so every auth scope
computed before the upgrade still matches and no token-scoped verdict is lost. The old copy is
left in place: it is harmless, and it is what a 0.1.0 process still running would read.
"""

import os

from vision_cache.ledger import SEP, Keys

_LEGACY_FILE = "secret.key"
_LEGACY_REDIS_KEY = Keys.META + SEP + "secret"


def upgrade(store):
    legacy = _legacy_hex(store)
    if legacy is not None:
        store.add(Keys.SECRET, legacy, None)


def _legacy_hex(store):
    raw = None
    if store.kind == "disk":
        try:
            with open(os.path.join(store.location, _LEGACY_FILE), "rb") as fh:
                raw = fh.read(200).strip()
        except OSError:
            raw = None
    else:
        raw = store.get_raw(_LEGACY_REDIS_KEY)
    if raw is None:
        return None
    text = raw.decode("ascii", "replace").strip()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text
    return None
