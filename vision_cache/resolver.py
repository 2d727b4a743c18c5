"""The resolver: which commit a revision names, for this auth scope, and whether we may say so.

One job (docs/design.md, "The resolver"): turn ``(repo, revision, scope)`` into a :class:`Resolution`:

- **online**: one ``model_info`` request resolves the revision to a commit sha and lists the
  repo's files; for a gated repo one HEAD confirms this token may read files (the Hub shows a gated
  repo's metadata to anyone). The alias ``revision -> sha`` is written through the ledger;
- **denied**: not found, gated, unauthorised, no such revision: an answer, stored for ``denied_ttl``;
- **stale**: offline, or the Hub failed: an expired alias or the HF cache's ``refs/`` may still
  name the commit, and the answer is marked ``stale``; it is stored only when an alias resolved
  online *for this scope* vouches for access;
- **unknown**: none of the above: never stored.

It talks to the Hub only through :class:`~vision_cache.hub.HubClient`.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from .hub import HubClient, RepoState
from .ledger import Ledger
from .target import Target, is_commit_sha
from .verdict import Kind


class Resolution(NamedTuple):
    sha: str | None  # the commit to judge; None when there is no answer to give (see kind)
    files: tuple[str, ...] = ()  # the repo's files at that commit, when the Hub listed them
    kind: Kind | None = None  # DENIED or UNKNOWN when resolution itself is the answer
    evidence: str = ""  # why (for denied/unknown), or why the answer is stale
    stale: bool = False  # resolved without the Hub: the answer is marked stale
    vouched: bool = True  # access for this scope is established: a stale answer may be stored
    repo_id: str | None = None  # the repo id as the Hub spells it, when the Hub answered
    card: RepoState | None = None  # what the Hub said of the repo (tags...), when it answered


class Resolver:
    def __init__(self, hub: HubClient, ledger: Ledger) -> None:
        self.hub = hub
        self.ledger = ledger

    def resolve(self, target: Target, deadline: float) -> Resolution:
        """Resolve ``target`` within ``deadline`` (a ``time.monotonic()`` value). Never raises."""
        if target.offline:
            return self._without_hub(target, "offline")
        from .detect.failures import classify_exception

        name = target.subject.name
        try:
            state = self.hub.repo_state(name, target.revision, target.token, time_left(deadline))
            if state.gated:
                self.hub.confirm_access(name, state, target.token, time_left(deadline))
        except Exception as exc:  # classified: denied is an answer, anything else falls back to stale
            kind, evidence = classify_exception(exc)
            if kind is Kind.DENIED:
                return Resolution(None, kind=Kind.DENIED, evidence=evidence)
            return self._without_hub(target, evidence)
        if not is_commit_sha(target.revision):
            self.ledger.write_alias(target, target.revision, state.commit_sha, state.files)
        return Resolution(state.commit_sha, state.files, repo_id=state.repo_id, card=state)

    def _without_hub(self, target: Target, reason: str) -> Resolution:
        """No Hub: an explicit sha, an alias resolved earlier for this scope, or the HF cache's refs/.

        The HF cache keeps a repo under the casing of its first download; a name asked in another
        casing is read under that one (``repo_id``), as Studio resolves it.
        """
        cached_as = self.hub.cached_repo_id(target.subject.name)
        if is_commit_sha(target.revision):
            return Resolution(target.revision, evidence=reason, stale=True, vouched=False, repo_id=cached_as)
        alias = self.ledger.alias(target)
        if alias is not None:
            return Resolution(alias.sha, evidence=reason, stale=True, vouched=True, repo_id=cached_as)
        sha = self.hub.cached_commit(cached_as or target.subject.name, target.revision)
        if sha is None:
            return Resolution(None, kind=Kind.UNKNOWN, evidence=f"{reason}, and this revision was never resolved here")
        return Resolution(sha, evidence=reason, stale=True, vouched=False, repo_id=cached_as)


def time_left(deadline: float) -> float:
    """Seconds left before ``deadline``; raises TimeoutError (an ``unknown``) when none are."""
    left = deadline - time.monotonic()
    if left <= 0.05:
        raise TimeoutError("the Hub time budget of this lookup is spent")
    return left
