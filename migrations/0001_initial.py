"""Schema 1: the first layout.

Keys are ``family \\x1f subject \\x1f version-or-revision \\x1f auth-scope`` with the families
``verdict`` (a verdict record), ``alias`` (revision name -> commit sha), ``backoff`` (a short
pause after an unknown), ``lease`` (single-flight) and ``meta`` / ``stats``. This step creates
the per-install secret that keys auth-scope fingerprints and records when the store was made.
"""

import time


def upgrade(store):
    store.secret()
    store.add("meta\x1fcreated", {"at": time.time()}, None)
