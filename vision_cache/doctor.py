"""``vision-cache doctor``: health checks an operator runs when something looks wrong.

Never prints a token or a password: only whether a token is present and where it came from.
"""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings, default_dir: str) -> list[Check]:
    from .keys import _hf_token_path, ambient_token
    from .migrate import NewerSchemaError, latest_version, schema_version
    from .settings import hub_offline
    from .stores import StoreError, open_store

    checks: list[Check] = []
    directory = settings.directory or default_dir
    try:
        store = open_store(directory, settings.url, settings.redis_prefix)
    except StoreError as exc:
        return [Check("store", False, str(exc))]
    checks.append(Check("store", True, f"{store.kind} {store.location}"))
    backend = getattr(store, "primary", store)  # with Redis, ask Redis itself, not its local fallback
    try:
        backend.get("meta\x1fschema")
        checks.append(Check("backend reachable", True, f"read from {backend.kind} succeeded"))
    except StoreError as exc:
        checks.append(Check("backend reachable", False, str(exc)))
        return checks
    try:
        version, latest = schema_version(store), latest_version()
        ok = version == latest
        detail = f"v{version} (this release: v{latest})"
        if version > latest:
            detail += ": written by a newer vision_cache"
        elif version < latest:
            detail += ": run `vision-cache migrate`"
        checks.append(Check("schema", ok, detail))
    except (StoreError, NewerSchemaError, ValueError) as exc:
        checks.append(Check("schema", False, str(exc)))
    problems = store.check()
    checks.append(Check("integrity and permissions", not problems, "; ".join(problems) or "no problems found"))
    from huggingface_hub import constants

    checks.append(Check("hub endpoint", True, f"{constants.ENDPOINT}" + (" (offline mode)" if hub_offline() else "")))
    source = "HF_TOKEN" if os.environ.get("HF_TOKEN") else (
        "HUGGING_FACE_HUB_TOKEN" if os.environ.get("HUGGING_FACE_HUB_TOKEN") else _hf_token_path())
    present = ambient_token() is not None
    checks.append(Check("token", True, f"present (from {source})" if present else "none (anonymous lookups)"))
    from .fingerprint import default_fingerprint

    checks.append(Check("detector", True, default_fingerprint()))
    store.close()
    return checks
