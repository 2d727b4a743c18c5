"""The ``vision-cache`` command: detect models, and operate the shared store.

Exit codes: 0 success; 1 a problem to look at (an ``unknown`` verdict, a pending migration,
a failed health check, a refused bundle record); 2 bad usage, input or configuration; 130
interrupted.

Secrets never go on the command line, where any user of the machine can read them: tokens come
from ``HF_TOKEN``, the HF token file, or ``--token-file``; a Redis password from
``VISION_CACHE_URL`` or ``--url-file`` (a ``--url`` carrying one is refused).

Every ``--json`` verdict is a :func:`vision_cache.bundle.verdict_record`. This module only
parses arguments and prints; the work is done by :class:`~vision_cache.VisionCache`,
:mod:`vision_cache.operations` and :mod:`vision_cache.bundle`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, NoReturn, cast

if TYPE_CHECKING:
    from .cache import VisionCache
    from .ledger import Entry, Ledger
    from .settings import Settings

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
KINDS = ("vision", "not_vision", "positive", "negative", "denied")  # what a store holds (never an unknown)
QUESTIONS = ("vision", "audio_type", "embedding")
LS_SORTS = ("age", "name", "kind")
#: ``ls`` filters: the option's destination -> the verdict record field it selects on. A new
#: dimension (e.g. ``--question``) is one argument and one row here.
LS_FILTERS = {"kinds": "kind", "questions": "question"}

#: Set (unless the user set them) before huggingface_hub or transformers is imported: their notices
#: ("PyTorch was not found", progress bars) are not this command's output. vision_cache's own
#: warnings still reach standard error.
QUIET_LIBRARIES = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
_INTERRUPTED = "interrupted; the store is consistent (every write is atomic)"
_MAX_URL_FILE = 4096


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``vision-cache`` with ``argv`` (default: ``sys.argv[1:]``) in this process; return the exit code.

    Never raises ``SystemExit``: ``--help``, ``--version`` and usage errors return their code too.
    """
    for name, value in QUIET_LIBRARIES.items():
        os.environ.setdefault(name, value)
    from .errors import (
        ConfigurationError,
        InvalidModelNameError,
        InvalidRevisionError,
        InvalidTokenError,
        VisionCacheError,
    )

    try:
        parser = _parser()
        try:
            args, unknown = parser.parse_known_args(argv)
            if unknown:  # not echoed: a mistyped option may carry a token (e.g. --token=hf_...)
                parser.error(f"{len(unknown)} unrecognised argument(s); tokens come from HF_TOKEN or --token-file")
        except SystemExit as exc:  # --help, --version, or a usage error argparse has printed
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        return cast("int", args.handler(args))
    except (UsageError, ConfigurationError, InvalidModelNameError, InvalidRevisionError, InvalidTokenError) as exc:
        _error(exc)
        return EXIT_USAGE
    except VisionCacheError as exc:
        _error(exc)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        print(_INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `vision-cache ls | head -1`
        return EXIT_OK


def run() -> NoReturn:
    """The process entry point (the ``vision-cache`` script and ``python -m vision_cache``).

    :func:`main`, then exit with its code. Once the command is over, a Ctrl-C cannot raise a
    traceback while the interpreter winds down, and a closed standard output is not reported twice.
    """
    status: int | None = None
    try:
        status = main()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # from here on we only exit
    except KeyboardInterrupt:  # a second Ctrl-C while the first was being reported, or just after main
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if status != EXIT_INTERRUPTED:
            with contextlib.suppress(OSError):
                print(_INTERRUPTED, file=sys.stderr)
        status = EXIT_INTERRUPTED
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(status)


class _Version(argparse.Action):
    """``--version``: read from package metadata only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> NoReturn:
        from . import __version__

        print(f"vision-cache {__version__}")
        parser.exit(EXIT_OK)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument("--dir", help="store folder (default: VISION_CACHE_DIR, else the user cache folder)")
    where = common.add_mutually_exclusive_group()
    where.add_argument("--url", help="redis:// store without a password (default: VISION_CACHE_URL); "
                                     "a URL with a password goes in VISION_CACHE_URL or --url-file")
    where.add_argument("--url-file", metavar="FILE", help="read the redis:// URL (password included) from this file")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = argparse.ArgumentParser(prog="vision-cache", allow_abbrev=False,
                                     description="Say whether Hugging Face models are vision-language models, "
                                                 "and operate the shared store of verdicts.")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        made = sub.add_parser(name, parents=[common], allow_abbrev=False, help=help, description=help)
        made.set_defaults(handler=handler)
        return made

    detect = command("detect", "say whether models are vision-language models", _detect)
    detect.add_argument("models", nargs="+", metavar="MODEL", help="Hub repo id or local path")
    detect.add_argument("--revision", help="branch, tag or commit sha (default: main)")
    detect.add_argument("--offline", action="store_true", help="do not contact the Hub (local_files_only)")
    detect.add_argument("--token-file", help="read the Hugging Face token from this file")
    detect.add_argument("--question", dest="questions", action="append", choices=(*QUESTIONS, "all"),
                        help="what to answer (repeatable; default: vision, plus the other answers already known)")

    warm = command("warm", "migrate, drop expired entries, pre-detect local models", _warm)
    warm.add_argument("models", nargs="*", metavar="MODEL", help="also look these up")
    warm.add_argument("--no-hf-cache", action="store_true", help="do not scan the local HF cache")
    warm.add_argument("--hf-cache-dir", help="HF hub cache to scan (default: HF_HUB_CACHE)")
    warm.add_argument("--token-file", help="read the Hugging Face token from this file")

    ls = command("ls", "list stored verdicts, newest first", _ls)
    ls.add_argument("models", nargs="*", metavar="MODEL", help="only these models")
    ls.add_argument("--kind", dest="kinds", action="append", choices=KINDS, help="only this kind (repeatable)")
    ls.add_argument("--question", dest="questions", action="append", choices=QUESTIONS,
                    help="only answers to this question (repeatable)")
    ls.add_argument("--sort", choices=LS_SORTS, default="age", help="newest first (age, the default), by name, "
                                                                    "or by kind")
    ls.add_argument("--limit", type=_positive, metavar="N", help="at most N verdicts")

    command("stats", "hits, misses, detections and entries, all workers", _stats)

    purge = command("purge", "delete stored entries (asks first for --all, --denied and --expired)", _purge)
    purge.add_argument("models", nargs="*", metavar="MODEL", help="every entry of these models")
    purge.add_argument("--model", dest="more_models", action="append", default=[], metavar="MODEL",
                       help="every entry of this model (repeatable; same as MODEL)")
    purge.add_argument("--expired", action="store_true", help="entries past their lifetime")
    purge.add_argument("--denied", action="store_true", help="every denied verdict")
    purge.add_argument("--all", action="store_true", help="every verdict and alias")
    purge.add_argument("--dry-run", action="store_true", help="show what would be deleted; delete nothing")
    purge.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    export = command("export", "write the public verdicts to a bundle that another store can import", _export)
    export.add_argument("file", metavar="FILE", help="the bundle to write (JSON lines; '-': standard output)")
    export.add_argument("--model", dest="models", action="append", metavar="MODEL",
                        help="only this model (repeatable)")

    imp = command("import", "add the verdicts of a bundle to the store (public scope only)", _import)
    imp.add_argument("file", metavar="FILE", help="the bundle to read ('-': standard input)")
    imp.add_argument("--dry-run", action="store_true", help="check the bundle and report; write nothing")

    migrate = command("migrate", "apply pending store migrations", _migrate)
    migrate.add_argument("--check", action="store_true", help="only report; exit 1 if migrations are pending")

    command("doctor", "check the store, the Hub settings and the backend", _doctor)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# -- commands ---------------------------------------------------------------------------------------


def _detect(args: argparse.Namespace) -> int:
    from .bundle import verdict_record
    from .errors import VisionCacheError
    from .verdict import Kind

    token = _token_from_file(args.token_file)
    asked = args.questions or ["vision"]
    questions = list(QUESTIONS) if "all" in asked else list(dict.fromkeys(asked))
    records, known, status = [], {}, EXIT_OK
    with _cache(args) as cache:
        for model in args.models:
            for question in questions:
                try:
                    verdict = cache.lookup(model, hf_token=token, local_files_only=args.offline,
                                           revision=args.revision, question=question)
                except (VisionCacheError, ValueError) as exc:
                    _error(exc, model)
                    status = EXIT_USAGE
                    break
                scope = _scope_of(cache, model, token)
                records.append(verdict_record(verdict, scope=scope, model=model))
                if verdict.kind is Kind.UNKNOWN and status == EXIT_OK:
                    status = EXIT_PROBLEM
                if not args.questions and verdict.commit_sha:  # the other answers already stored for it
                    known[model] = [e.verdict for e in cache.entries(model)
                                    if e.verdict.question.value not in questions and e.scope == scope
                                    and e.version == verdict.commit_sha]
    if args.json:
        _print_json(records)
        return status
    for row in records:
        sha = (row["commit_sha"] or "-")[:12]
        about = "" if row["question"] == "vision" else f"{row['question']}: {_answer(row['answer'])}  "
        print(f"{_safe(row['model'])}  {about}{row['kind']}  ({row['source']})  sha {sha}  {_lifetime(row)}")
        print(f"    evidence: {_safe(row['evidence'])}")
        others = known.get(row["model"], []) if row["question"] == "vision" else []
        if others:
            print("    also known: " + ", ".join(f"{v.question.value} {_answer(v.answer)}" for v in others))
    return status


def _answer(answer: object) -> str:
    if answer is True or answer is False or answer is None:
        return {True: "yes", False: "no", None: "none"}[answer]
    return _safe(str(answer))


def _warm(args: argparse.Namespace) -> int:
    token = _token_from_file(args.token_file)
    if token:
        os.environ["HF_TOKEN"] = token  # the models named on the command line are looked up with it
    with _cache(args) as cache:
        report = cache.warm_start(args.models, scan_hf_cache=not args.no_hf_cache, hf_cache_dir=args.hf_cache_dir,
                                  progress=not args.json and sys.stderr.isatty())
    if args.json:
        _print_json(report.__dict__)
    else:
        print(f"schema v{report.schema_version}; dropped {report.expired_dropped} expired; "
              f"{report.snapshots} local snapshots ({report.already_stored} stored, {report.detected} detected, "
              f"{report.failed} failed); {report.models} models looked up; {report.seconds:.2f} s")
    return EXIT_PROBLEM if report.failed else EXIT_OK


def _ls(args: argparse.Namespace) -> int:
    from .bundle import verdict_record

    with _cache(args) as cache:
        entries = _entries(cache, args.models)
    records = [verdict_record(e.verdict, scope=e.scope) for e in entries]
    for option, field in LS_FILTERS.items():
        wanted = getattr(args, option)
        if wanted:
            records = [r for r in records if r[field] in wanted]
    records.sort(key=lambda r: -r["created_at"])  # newest first; the sorts below are stable
    if args.sort == "name":
        records.sort(key=lambda r: r["subject"].lower())
    elif args.sort == "kind":
        records.sort(key=lambda r: KINDS.index(r["kind"]))
    records = records[:args.limit]
    if args.json:
        _print_json(records)
        return EXIT_OK
    now = time.time()
    for row in records:
        version = (row["commit_sha"] or "@" + (row["revision"] or "?"))[:12]
        print(f"{_safe(row['subject'])}  {row['kind']}  {_safe(version)}  {row['scope'][:14]}  "
              f"age {_duration(now - row['created_at'])}  {_lifetime(row)}")
    if not records:
        print("no stored verdicts", file=sys.stderr)
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    with _cache(args) as cache:
        stats = cache.stats()
    if args.json:
        _print_json(stats)
        return EXIT_OK
    store = stats["store"]
    print(f"store: {store['kind']} {_safe(store['location'])} ({_size(store['size_bytes'])})")
    entries = [f"{q} {k} {v}" for q, kinds in stats["entries"].items() for k, v in kinds.items()]
    print(f"entries: {', '.join(entries) or 'none'}; aliases {stats['aliases']}")
    print("counters: " + (", ".join(f"{k} {v}" for k, v in stats["counters"].items()) or "none"))
    return EXIT_OK


def _purge(args: argparse.Namespace) -> int:
    from .operations import purge

    models = [*args.models, *args.more_models]
    flags = {"expired": args.expired, "denied": args.denied, "everything": args.all}
    if not models and not any(flags.values()):
        raise UsageError("say what to purge: MODEL..., --expired, --denied or --all")
    if args.all and (models or args.expired or args.denied):
        raise UsageError("--all already deletes every verdict and alias; give it alone")
    with _cache(args) as cache:
        planner = _PurgePlan(cache.ledger)  # the same selection as the real purge, with nothing deleted
        for model in models:
            purge(cast("Ledger", planner), model)
        if any(flags.values()):
            purge(cast("Ledger", planner), **flags)
        if args.dry_run:
            _report_plan(planner, args.json)
            return EXIT_OK
        if (args.all or args.denied or args.expired) and not args.yes and not _confirmed(planner):
            return EXIT_OK
        removed = sum(cache.purge(model) for model in models)
        if any(flags.values()):
            removed += cache.purge(**flags)
    if args.json:
        _print_json({"removed": removed})
    else:
        print(f"removed {removed} entries")
    return EXIT_OK


class _PurgePlan:
    """Stands in for the ledger in :func:`vision_cache.operations.purge` and records, instead of
    doing, what it deletes (so a dry run and a confirmation show exactly what the purge selects).
    Expired entries cannot be listed: the store hides them already."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.keys: dict[str, None] = {}
        self.expired = False

    def __getattr__(self, name: str) -> Any:  # scan and the rest: the real ledger's
        return getattr(self._ledger, name)

    def delete(self, keys: list[str]) -> int:
        new = [key for key in dict.fromkeys(keys) if key not in self.keys]
        self.keys.update(dict.fromkeys(new))
        return len(new)

    def expire(self) -> int:
        self.expired = True
        return 0

    def rows(self) -> list[list[str]]:
        from .ledger import Keys

        return [Keys.split(key) for key in self.keys]

    def describe(self) -> str:
        text = f"{len(self.keys)} entries"
        return text + " and every expired entry" if self.expired else text


def _report_plan(plan: _PurgePlan, as_json: bool) -> None:
    if as_json:
        _print_json({"dry_run": True, "would_remove": len(plan.keys), "expired": plan.expired, "entries": plan.rows()})
        return
    print(f"would delete {plan.describe()}; nothing was deleted (dry run)")
    for row in plan.rows():
        print("  " + "  ".join(_safe(part) for part in row))
    if plan.expired:
        print("  (expired entries are not listed: they already answer nothing)")


def _confirmed(plan: _PurgePlan) -> bool:
    """Ask on the terminal; refuse (UsageError) when there is no terminal to ask on."""
    if not sys.stdin.isatty():
        raise UsageError(f"refusing to delete {plan.describe()} without confirmation: standard input is not a "
                         "terminal; add -y/--yes (or look first with --dry-run)")
    print(f"This deletes {plan.describe()} from the store.", file=sys.stderr)
    print("Proceed? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    if answer in ("y", "yes"):
        return True
    print("nothing deleted", file=sys.stderr)
    return False


def _export(args: argparse.Namespace) -> int:
    from .bundle import export_bundle

    with _cache(args) as cache:
        entries = _entries(cache, args.models, "vision") if args.models else None
        with _output(args.file) as out:
            report = export_bundle(cache.ledger, out, entries)
    where = sys.stderr if args.file == "-" else sys.stdout  # standard output may be the bundle itself
    if args.json:
        print(json.dumps(report.to_dict()), file=where)
    else:
        print(f"exported {report.exported} verdicts{_by_reason(report.skipped, 'left out')}", file=where)
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from .bundle import import_bundle

    with _cache(args) as cache, _input(args.file) as source:
        try:
            report = import_bundle(cache.ledger, source, dry_run=args.dry_run)
        except ValueError as exc:  # the bundle as a whole: nothing was written
            raise UsageError(str(exc)) from None
    if args.json:
        _print_json(report.to_dict())
    else:
        taken = ", ".join(f"{count} {reason}" for reason, count in report.taken.items())
        print(f"{'would import' if report.dry_run else 'imported'} {report.imported} verdicts"
              f"{f' ({taken})' if taken else ''}{_by_reason(report.skipped, 'skipped')}")
    return EXIT_OK if report.ok else EXIT_PROBLEM


def _migrate(args: argparse.Namespace) -> int:
    from .errors import StoreError, VisionCacheError
    from .migrate import migrate, schema_status
    from .settings import default_directory
    from .stores import open_store

    settings = _settings(args)
    try:
        store = open_store(settings.directory or default_directory(), settings.url, settings.redis_prefix)
        status = schema_status(store)
        if args.check or status.current >= status.latest:
            result = {"schema_version": status.current, "latest": status.latest, "pending": status.pending}
            print(json.dumps(result) if args.json else f"schema {status.describe()}")
            return EXIT_OK if status.ok else EXIT_PROBLEM
        applied = migrate(store)
    except (StoreError, VisionCacheError) as exc:
        _error(exc)
        return EXIT_PROBLEM
    print(json.dumps(applied._asdict()) if args.json else
          f"migrated v{applied.from_version} -> v{applied.to_version}: {', '.join(applied.applied) or 'nothing to do'}")
    return EXIT_OK


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    checks = run_checks(_settings(args))
    if args.json:
        _print_json([c.__dict__ for c in checks])
    else:
        for check in checks:
            print(f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {_safe(check.detail)}")
    return EXIT_OK if all(c.ok for c in checks) else EXIT_PROBLEM


# -- helpers -----------------------------------------------------------------------------------------


class UsageError(Exception):
    """Bad usage found after parsing: printed as one line, exit code 2."""


def _token_from_file(path: str | None) -> str | None:
    """The token in ``--token-file``, or None. Raises UsageError if the file cannot be read."""
    if path is None:
        return None
    token = _read_secret_file(path, "--token-file")
    return token or None


def _read_secret_file(path: str, option: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(_MAX_URL_FILE + 1).strip()
    except (OSError, UnicodeDecodeError) as exc:
        # the path is not echoed: a secret pasted in its place must not end up in a terminal log
        raise UsageError(f"cannot read the file given to {option}: "
                         f"{getattr(exc, 'strerror', None) or 'unreadable'}") from None


def _store_url(args: argparse.Namespace) -> str | None:
    """The Redis URL from ``--url`` (refused if it carries a password) or ``--url-file``; None: the
    settings read ``VISION_CACHE_URL``."""
    if args.url_file is not None:
        url = _read_secret_file(args.url_file, "--url-file")
        if not url or len(url) > _MAX_URL_FILE:
            raise UsageError("the file given to --url-file must hold one redis://, rediss:// or unix:// URL")
        return url
    if args.url is not None and _carries_secret(args.url):
        raise UsageError("--url carries a password (or cannot be parsed), and every user of this machine can read "
                         "the command line; put the URL in VISION_CACHE_URL or in a file given to --url-file")
    return cast("str | None", args.url)


def _carries_secret(url: str) -> bool:
    """Whether ``url`` holds a password (``redis://:pw@host``, ``?password=...``); True if it cannot be parsed."""
    import re
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
        password = parts.password
        names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    except ValueError:
        return True
    return bool(password) or any(re.search(r"pass|auth|token|secret|cred", n, re.IGNORECASE) for n in names)


def _settings(args: argparse.Namespace) -> Settings:
    from .settings import Settings

    return Settings.resolve(directory=args.dir, url=_store_url(args))



def _cache(args: argparse.Namespace) -> VisionCache:
    from .cache import VisionCache

    return VisionCache(directory=args.dir, url=_store_url(args))


def _entries(cache: VisionCache, models: Sequence[str], question: str | None = None) -> list[Entry]:
    """Stored verdicts of ``models`` (all if none), answering ``question`` (all if None), newest first, each once."""
    if not models:
        return cache.entries(question=question)
    unique = {(e.verdict.question, e.verdict.subject.lower(), e.version, e.scope): e
              for model in models for e in cache.entries(model, question)}
    return sorted(unique.values(), key=lambda e: e.verdict.created_at, reverse=True)


def _scope_of(cache: VisionCache, model: str, token: str | None) -> str:
    """The auth scope a lookup of ``model`` with ``token`` was keyed by."""
    from .target import LOCAL, effective_token, parse_subject

    try:
        if parse_subject(model).is_local:
            return LOCAL
    except ValueError:  # gone since the lookup: it was local
        return LOCAL
    return cache.ledger.scope(effective_token(token))


@contextlib.contextmanager
def _output(path: str) -> Iterator[IO[bytes]]:
    """Standard output for ``-``; else ``path``, replaced only once it is completely written."""
    if path == "-":
        yield sys.stdout.buffer
        return
    partial = f"{path}.partial-{os.getpid()}"
    try:
        with open(partial, "wb") as out:
            yield out
        os.replace(partial, path)
    except OSError as exc:
        raise UsageError(f"cannot write {_safe(path)}: {exc.strerror or 'failed'}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(partial)


@contextlib.contextmanager
def _input(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        source = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UsageError(f"cannot read {_safe(path)}: {exc.strerror or 'failed'}") from None
    with source:
        yield source


def _by_reason(counts: dict[str, int], verb: str) -> str:
    if not counts:
        return ""
    return f"; {verb} {sum(counts.values())}: " + ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))  # ensure_ascii: control characters arrive escaped


def _error(exc: BaseException | str, model: str | None = None) -> None:
    """One line on standard error, whatever the message holds."""
    prefix = f"{_safe(model)}: " if model is not None else ""
    print(f"error: {prefix}{_safe(str(exc))}", file=sys.stderr)


def _safe(text: object) -> str:
    """``text`` with every non-printable character escaped (ESC, BEL, newlines, bidi controls...),
    so that stored or given text never reaches the terminal raw."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


def _lifetime(row: dict[str, Any]) -> str:
    if row["kind"] == "unknown":
        return "not stored"
    return f"expires {_when(row['expires_at'])}"


def _when(timestamp: float | None) -> str:
    """A local date and time; total: a stored time out of the platform's range still prints."""
    if timestamp is None:
        return "never"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return f"at unix time {timestamp:.0f}" if math.isfinite(timestamp) else "at an invalid time"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 0:
        return "-" + _duration(-seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _size(size: int | None) -> str:
    return "size unknown" if size is None else f"{size / 1024:.0f} KiB"


if __name__ == "__main__":
    run()
