"""The ``vision-cache`` command: detect models, and operate the shared store.

Exit codes: 0 success; 1 a problem to look at (an ``unknown`` verdict, a pending migration,
a failed health check); 2 bad usage or input; 130 interrupted. Tokens come from ``HF_TOKEN``,
the HF token file, or ``--token-file``; never from the command line, where any user of the
machine could read them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # not echoed: a mistyped option may carry a token (e.g. --token=hf_...)
        parser.error(f"{len(unknown)} unrecognised argument(s); tokens come from HF_TOKEN or --token-file")
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; the store is consistent (every write is atomic)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument("--dir", help="store folder (default: VISION_CACHE_DIR, else the user cache folder)")
    common.add_argument("--url", help="redis://... store (default: VISION_CACHE_URL)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = argparse.ArgumentParser(prog="vision-cache", description=__doc__.split("\n\n")[0], allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], allow_abbrev=False, help=help)

    detect = command("detect", "say whether models are vision-language models")
    detect.add_argument("models", nargs="+", metavar="MODEL", help="Hub repo id or local path")
    detect.add_argument("--revision", help="branch, tag or commit sha (default: main)")
    detect.add_argument("--offline", action="store_true", help="do not contact the Hub (local_files_only)")
    detect.add_argument("--token-file", help="read the Hugging Face token from this file")
    detect.set_defaults(handler=_detect)

    warm = command("warm", "migrate, drop expired entries, pre-detect local models")
    warm.add_argument("models", nargs="*", metavar="MODEL", help="also look these up")
    warm.add_argument("--no-hf-cache", action="store_true", help="do not scan the local HF cache")
    warm.add_argument("--hf-cache-dir", help="HF hub cache to scan (default: HF_HUB_CACHE)")
    warm.add_argument("--token-file", help="read the Hugging Face token from this file")
    warm.set_defaults(handler=_warm)

    ls = command("ls", "list stored verdicts")
    ls.add_argument("model", nargs="?", help="only this model")
    ls.set_defaults(handler=_ls)

    stats = command("stats", "hits, misses, detections and entries, all workers")
    stats.set_defaults(handler=_stats)

    purge = command("purge", "delete stored entries")
    what = purge.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", help="every entry of this model")
    what.add_argument("--expired", action="store_true", help="entries past their lifetime")
    what.add_argument("--denied", action="store_true", help="every denied verdict")
    what.add_argument("--all", action="store_true", help="every verdict and alias")
    purge.set_defaults(handler=_purge)

    migrate = command("migrate", "apply pending store migrations")
    migrate.add_argument("--check", action="store_true", help="only report; exit 1 if migrations are pending")
    migrate.set_defaults(handler=_migrate)

    doctor = command("doctor", "check the store, the Hub settings and the backend")
    doctor.set_defaults(handler=_doctor)
    return parser


# -- commands ---------------------------------------------------------------------------------------


def _detect(args) -> int:
    from . import InvalidModelNameError, Kind, VisionCacheError

    token = _token_from_file(args.token_file)
    cache = _cache(args)
    results, status = [], EXIT_OK
    for model in args.models:
        try:
            verdict = cache.lookup(model, hf_token=token, local_files_only=args.offline, revision=args.revision)
        except (InvalidModelNameError, VisionCacheError, ValueError) as exc:
            results.append({"model": model, "error": str(exc)})
            status = EXIT_USAGE
            continue
        results.append({"model": model, **verdict.to_dict()})
        if verdict.kind is Kind.UNKNOWN and status == EXIT_OK:
            status = EXIT_PROBLEM
    cache.close()
    if args.json:
        print(json.dumps(results, indent=2))
        return status
    for row in results:
        if "error" in row:
            print(f"{row['model']}  error: {row['error']}", file=sys.stderr)
            continue
        sha = (row["commit_sha"] or "-")[:12]
        print(f"{row['model']}  {row['kind']}  ({row['source']})  sha {sha}  expires {_when(row['expires_at'])}")
        print(f"    evidence: {row['evidence']}")
    return status


def _warm(args) -> int:
    token = _token_from_file(args.token_file)
    if token:
        os.environ["HF_TOKEN"] = token  # warm start judges under the ambient token's scope
    cache = _cache(args)
    report = cache.warm_start(args.models, scan_hf_cache=not args.no_hf_cache, hf_cache_dir=args.hf_cache_dir,
                              progress=not args.json and sys.stderr.isatty())
    cache.close()
    if args.json:
        print(json.dumps(report.__dict__, indent=2))
    else:
        print(f"schema v{report.schema_version}; dropped {report.expired_dropped} expired; "
              f"{report.snapshots} local snapshots ({report.already_stored} stored, {report.detected} detected, "
              f"{report.failed} failed); {report.models} models looked up; {report.seconds:.2f} s")
    return EXIT_PROBLEM if report.failed else EXIT_OK


def _ls(args) -> int:
    from . import VisionCacheError

    cache = _cache(args)
    try:
        entries = cache.entries(args.model)
    except VisionCacheError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    now = time.time()
    rows = [{**e.verdict.to_dict(), "version": e.version, "scope": e.scope[:14],
             "age_seconds": round(now - e.verdict.created_at, 1)} for e in entries]
    for row in rows:
        del row["source"], row["revision"]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        print(f"{row['subject']}  {row['kind']}  {row['version'][:12]}  {row['scope']}  "
              f"age {_duration(row['age_seconds'])}  expires {_when(row['expires_at'])}")
    if not rows:
        print("no stored verdicts", file=sys.stderr)
    return EXIT_OK


def _stats(args) -> int:
    stats = _cache(args).stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return EXIT_OK
    store = stats["store"]
    print(f"store: {store['kind']} {store['location']} ({_size(store['size_bytes'])})")
    print("entries: " + ", ".join(f"{q} {k} {v}" for q, kinds in stats["entries"].items() for k, v in kinds.items())
          + f", aliases {stats['aliases']}")
    print("counters: " + ", ".join(f"{k} {v}" for k, v in stats["counters"].items()))
    return EXIT_OK


def _purge(args) -> int:
    from . import VisionCacheError

    cache = _cache(args)
    try:
        removed = cache.purge(args.model, expired=args.expired, denied=args.denied, everything=args.all)
    except VisionCacheError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps({"removed": removed}) if args.json else f"removed {removed} entries")
    return EXIT_OK


def _migrate(args) -> int:
    from .errors import StoreError, VisionCacheError
    from .migrate import migrate, schema_status
    from .stores import open_store

    settings = _settings(args)
    try:
        store = open_store(settings.directory or _default_dir(), settings.url, settings.redis_prefix)
        status = schema_status(store)
        if args.check or status.current >= status.latest:
            result = {"schema_version": status.current, "latest": status.latest, "pending": status.pending}
            print(json.dumps(result) if args.json else f"schema {status.describe()}")
            return EXIT_OK if status.ok else EXIT_PROBLEM
        applied = migrate(store)
    except (StoreError, VisionCacheError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    print(json.dumps(applied._asdict()) if args.json else
          f"migrated v{applied.from_version} -> v{applied.to_version}: {', '.join(applied.applied) or 'nothing to do'}")
    return EXIT_OK


def _doctor(args) -> int:
    from .doctor import run_checks

    checks = run_checks(_settings(args))
    if args.json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        for check in checks:
            print(f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return EXIT_OK if all(c.ok for c in checks) else EXIT_PROBLEM


# -- helpers -----------------------------------------------------------------------------------------

class UsageError(Exception):
    """Bad usage found after parsing: printed as one line, exit code 2."""


def _token_from_file(path: str | None) -> str | None:
    """The token in ``--token-file``, or None. Raises UsageError if the file cannot be read."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            token = fh.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        # the path is not echoed: a token pasted in its place must not end up in a terminal log
        raise UsageError("cannot read the file given to --token-file: "
                         f"{getattr(exc, 'strerror', None) or 'unreadable'}") from None
    return token or None


def _settings(args):
    from .settings import Settings

    _warn_about_password_in_argv(args)
    return Settings.resolve(directory=args.dir, url=args.url)


def _default_dir() -> str:
    from .settings import default_directory

    return default_directory()


def _cache(args):
    from .cache import VisionCache

    _warn_about_password_in_argv(args)
    return VisionCache(directory=args.dir, url=args.url)


def _warn_about_password_in_argv(args) -> None:
    from urllib.parse import urlsplit

    if args.url and urlsplit(args.url).password:
        print("warning: --url carries a password, which every user of this machine can read in the process "
              "list; set VISION_CACHE_URL instead", file=sys.stderr)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _size(size: int | None) -> str:
    return "size unknown" if size is None else f"{size / 1024:.0f} KiB"


if __name__ == "__main__":
    sys.exit(main())
