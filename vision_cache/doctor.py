"""``vision-cache doctor``: health checks an operator runs when something looks wrong.

It reports the store actually in use, as a lookup would open it: a store that degraded to memory
(unwritable folder, malformed record, Redis down with no local tier) is a failed check, not an
``[ok]``. Never prints a token or a password: only whether a token is present and where it came from.
"""

from __future__ import annotations

import dataclasses
import os

from .errors import StoreError, VisionCacheError
from .settings import Settings, hub_offline


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[Check]:
    from .fingerprint import default_fingerprint
    from .ledger import open_ledger
    from .migrate import schema_status
    from .target import _hf_token_path, ambient_token

    ledger = open_ledger(settings, default_fingerprint)
    store = ledger.store
    in_use = store.kind != "memory"
    checks = [Check("store", in_use, f"{store.kind} {store.location}" if in_use else
                    "memory only: the configured store could not be opened (see the warning above)")]
    if not in_use:
        return checks
    backend = getattr(store, "primary", store)  # with Redis, ask Redis itself, not its local fallback
    try:
        status = schema_status(backend)
        checks.append(Check("backend reachable", True, f"read from {backend.kind} succeeded"))
        checks.append(Check("schema", status.ok, status.describe()))
    except (StoreError, VisionCacheError) as exc:
        checks.append(Check("backend reachable", False, str(exc)))
        return checks
    try:
        ledger.secret()
        secret_ok = ledger.store is store
    except StoreError:
        secret_ok = False
    checks.append(Check("auth secret", secret_ok, "readable" if secret_ok else "unusable: lookups use memory only"))
    problems = store.check()
    checks.append(Check("integrity and permissions", not problems, "; ".join(problems) or "no problems found"))
    from huggingface_hub import constants

    checks.append(Check("hub endpoint", True, f"{constants.ENDPOINT}" + (" (offline mode)" if hub_offline() else "")))
    source = "HF_TOKEN" if os.environ.get("HF_TOKEN") else (
        "HUGGING_FACE_HUB_TOKEN" if os.environ.get("HUGGING_FACE_HUB_TOKEN") else _hf_token_path())
    present = ambient_token() is not None
    checks.append(Check("token", True, f"present (from {source})" if present else "none (anonymous lookups)"))
    checks.append(Check("detector", True, default_fingerprint()))
    ledger.close()
    return checks
