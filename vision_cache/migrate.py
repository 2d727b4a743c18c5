"""Applies the numbered steps in ``migrations/`` to a store, once, under a cross-process lease.

The store records its schema version under the ledger's ``Keys.SCHEMA``. Steps are modules named
``NNNN_description.py`` that define ``upgrade(store)``; each must be idempotent, because a step
interrupted by a crash runs again. The version is recorded after each step, so a crash loses at
most the step in progress. A store whose version is newer than the newest step this release
knows is never touched: :class:`NewerSchemaError` is raised and the cache degrades.
"""

from __future__ import annotations

import re

from ._tuples import NamedTuple
from .errors import MigrationLockTimeout, NewerSchemaError, VisionCacheError
from .ledger import Keys
from .stores.base import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: The newest schema this release writes: the number of steps in migrations/ (a test checks they agree).
#: Opening an up-to-date store compares against it and discovers no step modules (a hit-path saving).
LATEST_SCHEMA = 2

__all__ = ["LATEST_SCHEMA", "MigrationLockTimeout", "MigrationResult", "NewerSchemaError", "Step",
           "SchemaStatus", "discover_steps", "latest_version", "migrate", "schema_status", "schema_version"]
_STEP_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)")


class Step(NamedTuple):
    version: int
    name: str
    upgrade: Callable[[Store], None]


class MigrationResult(NamedTuple):
    from_version: int
    to_version: int
    applied: tuple[str, ...]


def discover_steps(package: str = "vision_cache.migrations") -> list[Step]:
    """The steps shipped in ``package``, in order. Raises VisionCacheError if they are not 1..N."""
    import importlib
    import pkgutil

    module = importlib.import_module(package)
    steps = []
    for info in pkgutil.iter_modules(module.__path__):
        match = _STEP_NAME.fullmatch(info.name)
        if match:
            step = importlib.import_module(f"{package}.{info.name}")
            steps.append(Step(int(match.group(1)), info.name, step.upgrade))
    steps.sort(key=lambda s: s.version)
    if [s.version for s in steps] != list(range(1, len(steps) + 1)):
        raise VisionCacheError(f"migration steps in {package} are not numbered 1..N: {[s.name for s in steps]}")
    return steps


def schema_version(store: Store) -> int:
    """The version recorded in ``store`` (0 for a new, empty store). Raises StoreError."""
    record = store.get(Keys.SCHEMA)
    if record is None:
        return 0
    version = record.get("version") if isinstance(record, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise VisionCacheError(f"the store's schema record is malformed: {record!r}")
    return version


def latest_version(steps: Sequence[Step] | None = None) -> int:
    return LATEST_SCHEMA if steps is None else len(steps)


def migrate(store: Store, steps: Sequence[Step] | None = None, lock_timeout: float = 60.0) -> MigrationResult:
    """Bring ``store`` to the newest schema.

    Raises:
        NewerSchemaError: the store is newer than this release (nothing is touched).
        MigrationLockTimeout: another process kept the lease longer than ``lock_timeout``.
        StoreError: the store failed.
    """
    current = schema_version(store)
    if steps is None and current == LATEST_SCHEMA:
        return MigrationResult(current, current, ())
    steps = discover_steps() if steps is None else list(steps)
    target = len(steps)
    _refuse_newer(current, target)
    if current == target:
        return MigrationResult(current, current, ())
    from .lease import Lease

    with Lease(store, Keys.MIGRATION_LOCK) as lease:
        if not lease.acquire(timeout=lock_timeout):
            raise MigrationLockTimeout(f"another process has held the migration lease for {lock_timeout:g} s")
        start = current = schema_version(store)  # another process may have migrated meanwhile
        _refuse_newer(current, target)
        applied = []
        for step in steps[current:]:
            step.upgrade(store)
            store.set(Keys.SCHEMA, {"version": step.version}, None)
            applied.append(step.name)
        return MigrationResult(start, target, tuple(applied))


def _refuse_newer(current: int, target: int) -> None:
    if current > target:
        raise NewerSchemaError(
            f"the store has schema version {current}, but this vision_cache knows only up to {target}; "
            "it was written by a newer release. Leaving it untouched; upgrade vision_cache to use it."
        )


class SchemaStatus(NamedTuple):
    current: int  # the version the store records
    latest: int  # the newest this release knows

    @property
    def pending(self) -> int:
        return max(self.latest - self.current, 0)

    @property
    def ok(self) -> bool:
        return self.current == self.latest

    def describe(self) -> str:
        text = f"v{self.current} (this release: v{self.latest})"
        if self.current > self.latest:
            return text + ": written by a newer vision_cache; upgrade to use it"
        if self.current < self.latest:
            return text + f": {self.pending} migration(s) pending; run `vision-cache migrate`"
        return text


def schema_status(store: Store) -> SchemaStatus:
    """Where ``store`` stands against this release. Raises StoreError or VisionCacheError (malformed record)."""
    return SchemaStatus(schema_version(store), latest_version())

