"""The ``vision-cache`` command and the Python surface around it (issue 13).

Most tests run :func:`vision_cache.cli.main` in this process and read its output with ``capsys``;
a few run the real thing, ``python -m vision_cache``, where the process matters (exit on Ctrl-C,
standard error free of library notices, no terminal on standard input).
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from conftest import REDIS_URL, TEXT_LLM, VLM, interrupt_when, publish, require_redis

from vision_cache import Kind, Question, Source, VisionCache, cli
from vision_cache.ledger import Keys, encode_verdict
from vision_cache.target import ANONYMOUS, parse_subject

README = Path(__file__).parent.parent / "README.md"

#: The verdict record, vision_cache.verdict/1: every field and the JSON types it may hold. Written
#: once here; test_the_record_is_the_documented_one checks README.md documents exactly these.
RECORD = {
    "schema": str, "model": str, "question": str, "kind": str, "answer": (bool, str, type(None)),
    "is_vision": bool, "source": str,
    "subject": str, "revision": (str, type(None)), "commit_sha": (str, type(None)), "scope": str,
    "created_at": (int, float), "expires_at": (int, float, type(None)), "detector": str, "evidence": str,
}


def check_record(row: dict) -> dict:
    assert set(row) == set(RECORD), sorted(set(row) ^ set(RECORD))
    for field, types in RECORD.items():
        assert isinstance(row[field], types), (field, row[field])
    assert row["schema"] == "vision_cache.verdict/1" and row["question"] in ("vision", "audio_type", "embedding")
    assert row["kind"] in ("vision", "not_vision", "positive", "negative", "denied", "unknown")
    assert row["is_vision"] is (row["kind"] == "vision")
    assert row["source"] in ("memory", "store", "detected", "stale")
    assert re.fullmatch(r"anonymous|local|hf-cache|token:[0-9a-f]{32}", row["scope"]), row["scope"]
    assert row["commit_sha"] is None or re.fullmatch(r"[0-9a-f]{40}", row["commit_sha"])
    return row


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch):
    """main() quiets the Hub and transformers libraries through the environment: undo it after each test."""
    for name in cli.QUIET_LIBRARIES:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def vc(capsys, store):
    """Run ``vision-cache ARGS --dir STORE`` in this process: (exit code, stdout, stderr)."""

    def run(*args: str, directory: Path | str | None = store) -> tuple[int, str, str]:
        argv = [*args, "--dir", str(directory)] if directory is not None and args and not args[0].startswith("--") \
            else list(args)
        code = cli.main(argv)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def python_m(*args: str, env: dict | None = None, stdin: str | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m vision_cache ARGS`` in a fresh interpreter (standard input: not a terminal)."""
    return subprocess.run([sys.executable, "-m", "vision_cache", *args], env=dict(os.environ, **(env or {})),
                          input=stdin if stdin is not None else "", capture_output=True, text=True, timeout=timeout)


class Terminal(io.StringIO):
    """Standard input as a terminal on which the user types ``answer``."""

    def isatty(self) -> bool:
        return True


def stored(directory: Path) -> list:
    with VisionCache(directory=directory, memory_ttl=0) as cache:
        return cache.entries()


# -- version, entry points, the Python surface -----------------------------------------------------


def test_version_comes_from_package_metadata_everywhere(vc):
    expected = importlib.metadata.version("vision_cache")
    import vision_cache

    assert vision_cache.__version__ == expected
    assert vc("--version") == (0, f"vision-cache {expected}\n", "")
    result = python_m("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"vision-cache {expected}\n", "")


def test_importing_the_package_stays_cheap():
    code = ("import sys, vision_cache; heavy = [m for m in ('importlib.metadata', 'huggingface_hub', 'transformers') "
            "if m in sys.modules]; print(heavy); vision_cache.__version__; print('importlib.metadata' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


def test_the_package_is_typed():
    import importlib.resources

    assert importlib.resources.files("vision_cache").joinpath("py.typed").is_file()


def test_help_and_usage_errors(vc):
    code, out, _ = vc("--help")
    assert code == 0 and "export" in out and "import" in out
    code, out, err = vc("purge", "--help", directory=None)
    assert code == 0 and "--dry-run" in out and "--yes" in out and "--url-file" in out
    code, _, err = vc("ls", "--frobnicate=hf_secretvalue")
    assert code == 2 and "hf_secretvalue" not in err
    assert vc("frobnicate", directory=None)[0] == 2


def test_vision_cache_is_a_context_manager(store):
    closed = []

    class Recording(VisionCache):
        def close(self) -> None:
            closed.append(True)
            super().close()

    with Recording(store, memory_ttl=0) as cache:
        assert isinstance(cache, Recording) and not closed
    assert closed == [True]
    with pytest.raises(RuntimeError), Recording(store) as cache:
        raise RuntimeError("closed on the way out too")
    assert closed == [True, True]


def test_tuning_arguments_are_keyword_only_with_a_deprecation_period(store):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # by keyword: no warning
        assert VisionCache(store, None, negative_ttl=60).settings.negative_ttl == 60
    with pytest.warns(DeprecationWarning, match="by keyword") as caught:
        cache = VisionCache(store, None, 60, 30, 20)
    assert caught[0].filename == __file__  # the warning points at the caller
    assert (cache.settings.negative_ttl, cache.settings.denied_ttl, cache.settings.alias_ttl) == (60, 30, 20)

    def rules(request):
        return Kind.VISION, "everything is a VLM here"

    with pytest.warns(DeprecationWarning):
        assert VisionCache(store, None, None, None, None, rules).detector is rules
    with pytest.raises(TypeError, match="multiple values"):
        VisionCache(store, None, 60, negative_ttl=60)
    with pytest.raises(TypeError, match="at most"):
        VisionCache(store, None, 1, 2, 3, rules, "one too many")


# -- detect -----------------------------------------------------------------------------------------


def test_detect_prints_the_verdict_record(hub, vc):
    sha = publish(hub, VLM)
    publish(hub, TEXT_LLM)
    code, out, err = vc("detect", "--json", VLM, TEXT_LLM)
    assert code == 0, err
    rows = [check_record(row) for row in json.loads(out)]
    assert [(r["model"], r["kind"], r["source"], r["scope"]) for r in rows] == [
        (VLM, "vision", "detected", "anonymous"), (TEXT_LLM, "not_vision", "detected", "anonymous")]
    assert rows[0]["commit_sha"] == sha and rows[0]["expires_at"] is None
    code, out, _ = vc("detect", VLM)
    assert code == 0
    assert out.startswith(f"{VLM}  vision  (store)  sha {sha[:12]}  expires never\n    evidence: ")


def test_detect_an_unknown_says_not_stored_and_exits_1(hub, vc, monkeypatch):
    publish(hub, VLM)
    hub.set_fault(VLM, 503)
    monkeypatch.setenv("VISION_CACHE_HUB_TIMEOUT", "2")
    code, out, _ = vc("detect", VLM)
    assert code == 1
    assert "  unknown  " in out and "not stored" in out and "expires" not in out
    code, out, _ = vc("detect", "--json", VLM)
    assert code == 1 and check_record(json.loads(out)[0])["expires_at"] is None


def test_detect_a_bad_name_exits_2_and_still_answers_the_others(hub, vc):
    publish(hub, VLM)
    code, out, err = vc("detect", "--json", "not a repo id", VLM)
    assert code == 2
    assert [r["model"] for r in json.loads(out)] == [VLM]
    assert err.startswith("error: not a repo id: ") and err.count("\n") == 1


def test_detect_with_a_token_reports_its_scope_never_the_token(hub, vc, tmp_path):
    publish(hub, VLM)
    token_file = tmp_path / "token"
    token_file.write_text("hf_cliScopeTestToken0123456789abcdef\n")
    code, out, err = vc("detect", "--json", "--token-file", str(token_file), VLM)
    assert code == 0
    [row] = json.loads(out)
    assert check_record(row)["scope"].startswith("token:")
    assert "hf_cliScope" not in out + err


def test_control_characters_never_reach_the_terminal_raw(vc, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "evil\x1b]0;pwned\x07\x1b[31m"}))
    code, out, err = vc("detect", str(model))
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b]0;pwned\\x07" in out  # shown escaped, so an operator still sees what was there
    code, out, _ = vc("detect", "--json", str(model))
    assert "\x1b" not in out and "\\u001b" in out


def test_cli_detection_keeps_standard_error_clean(tmp_path):
    """No "PyTorch was not found", no progress bars: only our own output (run as a real process,
    with none of the quieting variables set by the caller)."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "a_type_nobody_registered"}))
    env = {k: v for k, v in os.environ.items() if k not in cli.QUIET_LIBRARIES}
    result = subprocess.run([sys.executable, "-m", "vision_cache", "detect", str(model), "--dir",
                             str(tmp_path / "store")], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "unknown to transformers" in result.stdout  # transformers' tables were consulted
    assert result.stderr == ""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = subprocess.run([sys.executable, "-m", "vision_cache", "detect", str(model), "--dir", str(blocker)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "memory-only" in result.stderr and "PyTorch" not in result.stderr  # our own warnings stay


# -- ls ---------------------------------------------------------------------------------------------


@pytest.fixture
def three_kinds(hub, store):
    """A store with a vision, a not_vision and a denied verdict, detected in that order (and nothing
    else: the embedding answers the cold lookups learnt from the model cards are dropped)."""
    from vision_cache.ledger import Keys

    publish(hub, VLM)
    publish(hub, TEXT_LLM)
    with VisionCache(directory=store, memory_ttl=0) as cache:
        for model in (VLM, TEXT_LLM, "nobody/not-there"):
            cache.lookup(model)
            time.sleep(0.01)  # distinct ages
        cache.ledger.delete([key for key, _, _ in cache.ledger.scan(Keys.family(Keys.ANSWERS[Question.EMBEDDING]))])
    return store


def test_ls_filters_sorts_and_limits(three_kinds, vc):
    def listed(*args: str, question: str = "vision") -> list[tuple[str, str]]:
        code, out, err = vc("ls", "--json", "--question", question, *args)
        assert code == 0, err
        return [(check_record(r)["subject"], r["kind"]) for r in json.loads(out)]

    vision, text, denied = (VLM, "vision"), (TEXT_LLM, "not_vision"), ("nobody/not-there", "denied")
    assert listed() == [denied, text, vision]  # newest first
    assert listed("--sort", "age") == [denied, text, vision]
    assert listed("--sort", "name") == sorted([vision, text, denied], key=lambda r: r[0].lower())
    assert listed("--sort", "kind") == [vision, text, denied]
    assert listed("--kind", "vision") == [vision]
    assert listed("--kind", "vision", "--kind", "denied") == [denied, vision]
    assert listed("--limit", "1") == [denied]
    assert listed("--sort", "name", "--limit", "2") == sorted([vision, text, denied], key=lambda r: r[0].lower())[:2]
    assert listed(VLM.upper(), TEXT_LLM) == [text, vision]  # names compare case-insensitively, like the Hub
    assert listed(question="embedding") == []  # (the fixture dropped the answers the model cards gave)
    assert vc("ls", "--limit", "0")[0] == 2
    assert vc("ls", "--kind", "unknown")[0] == 2  # never stored, so not a filter


def test_ls_and_detect_print_the_same_record(three_kinds, vc):
    _, out, _ = vc("detect", "--json", VLM)
    [detected] = json.loads(out)
    _, out, _ = vc("ls", "--json", "--question", "vision", VLM)
    [listed] = json.loads(out)
    assert {**detected, "source": "store"} == listed


def test_ls_human_output(three_kinds, vc):
    code, out, _ = vc("ls")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("nobody/not-there  denied  @main  anonymous  age ")
    assert "expires never" in lines[2]


def test_no_stored_time_crashes_a_display(three_kinds, vc):
    """A planted created_at / expires_at out of the platform's time range prints (the formatting is total)."""
    [entry] = [e for e in stored(three_kinds) if e.verdict.subject == VLM]
    planted = entry.verdict.replace(created_at=0.0, expires_at=float(2**42 - 1))
    with VisionCache(directory=three_kinds, memory_ttl=0) as cache:
        cache.store.set(Keys.verdict(parse_subject(VLM), entry.version, ANONYMOUS), encode_verdict(planted), None)
    code, out, _ = vc("ls")
    assert code == 0 and VLM in out
    for stamp in (None, 0.0, 2.0**42, -1e12, 1e18, -1e18, float("inf"), float("nan")):
        assert isinstance(cli._when(stamp), str)
        assert isinstance(cli._duration(time.time() - (stamp or 0.0)), str)
    assert cli._when(1e18) == "at unix time 1000000000000000000"


# -- purge ------------------------------------------------------------------------------------------


def test_purge_models_by_position_or_by_option(three_kinds, vc):
    code, out, _ = vc("purge", "--json", VLM.upper())
    assert code == 0 and json.loads(out) == {"removed": 2}  # verdict + alias, without asking
    code, out, _ = vc("purge", "--model", TEXT_LLM, "nobody/not-there")
    assert code == 0 and out == "removed 3 entries\n"  # TEXT_LLM's verdict + alias, and the denial
    assert stored(three_kinds) == []
    code, _, err = vc("purge", "./no-such-folder")
    assert code == 2 and err.startswith("error: no file or folder at ")


def test_purge_dry_run_shows_exactly_what_would_go(three_kinds, vc):
    code, out, _ = vc("purge", "--all", "--dry-run")
    assert code == 0
    assert out.startswith("would delete 5 entries; nothing was deleted (dry run)\n")  # 3 verdicts, 2 aliases
    assert f"hub:{VLM.lower()}" in out
    code, out, _ = vc("purge", "--json", "--dry-run", "--denied", "--expired")
    payload = json.loads(out)
    assert code == 0 and payload["dry_run"] is True and payload["would_remove"] == 1 and payload["expired"] is True
    [[family, subject, version, scope]] = payload["entries"]
    assert (family, subject, version, scope) == ("verdict", "hub:nobody/not-there", "@main", "anonymous")
    code, out, _ = vc("purge", "--dry-run", VLM)
    assert code == 0 and "would delete 2 entries" in out
    assert len(stored(three_kinds)) == 3  # nothing deleted


@pytest.mark.parametrize("what", [["--all"], ["--denied"], ["--expired"]])
def test_purge_asks_before_deleting_in_bulk(three_kinds, vc, monkeypatch, what):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal, and no -y
    code, out, err = vc("purge", *what)
    assert code == 2 and out == ""
    assert err.startswith("error: refusing to delete ") and "-y/--yes" in err and err.count("\n") == 1
    assert len(stored(three_kinds)) == 3

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    code, out, err = vc("purge", *what)
    assert code == 0 and "Proceed? [y/N]" in err and "nothing deleted" in err and out == ""
    assert len(stored(three_kinds)) == 3

    monkeypatch.setattr(sys, "stdin", Terminal(""))  # Ctrl-D: no
    assert vc("purge", *what)[0] == 0 and len(stored(three_kinds)) == 3


def test_purge_all_goes_ahead_when_confirmed(three_kinds, vc, monkeypatch):
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    code, out, err = vc("purge", "--all")
    assert code == 0 and "This deletes 5 entries" in err and out == "removed 5 entries\n"
    assert stored(three_kinds) == []


def test_purge_yes_skips_the_question(three_kinds, vc, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert vc("purge", "-y", "--denied")[:2] == (0, "removed 1 entries\n")
    assert vc("purge", "--yes", "--all", "--json")[:2] == (0, '{\n  "removed": 4\n}\n')
    assert stored(three_kinds) == []


def test_purge_usage_errors(vc):
    assert vc("purge")[0] == 2
    code, _, err = vc("purge", "--all", VLM)
    assert code == 2 and "alone" in err


def test_purge_without_a_terminal_as_a_real_process(three_kinds):
    result = python_m("purge", "--all", "--dir", str(three_kinds))
    assert result.returncode == 2 and "-y/--yes" in result.stderr and "Traceback" not in result.stderr
    assert len(stored(three_kinds)) == 3
    result = python_m("purge", "--all", "-y", "--dir", str(three_kinds))
    assert result.returncode == 0 and result.stdout == "removed 5 entries\n"


# -- secrets and configuration ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["redis://:hunter2-secret@127.0.0.1:6379/0",
                                 "redis://user:hunter2-secret@127.0.0.1:6379/0",
                                 "redis://127.0.0.1:6379/0?password=hunter2-secret",
                                 "rediss://[::1:6379/0?x=hunter2-secret"])
def test_a_password_on_the_command_line_is_refused(vc, url):
    code, out, err = vc("ls", "--url", url)
    assert code == 2 and out == ""
    assert err.startswith("error: --url ") and err.count("\n") == 1
    assert "hunter2" not in err


def test_the_url_can_come_from_a_file(vc, tmp_path, redis_prefix, monkeypatch):
    require_redis()
    monkeypatch.setenv("VISION_CACHE_REDIS_PREFIX", redis_prefix)
    url_file = tmp_path / "redis-url"
    url_file.write_text(REDIS_URL + "\n")
    code, out, err = vc("stats", "--json", "--url-file", str(url_file))
    assert code == 0, err
    assert json.loads(out)["store"]["kind"] == "redis"
    code, out, err = vc("stats", "--json", "--url", REDIS_URL)  # no password: fine on the command line
    assert code == 0 and json.loads(out)["store"]["kind"] == "redis"
    assert vc("ls", "--url", REDIS_URL, "--url-file", str(url_file))[0] == 2
    code, _, err = vc("ls", "--url-file", "redis://:pasted-by-mistake@host/0")
    assert code == 2 and "pasted-by-mistake" not in err and "--url-file" in err


@pytest.mark.parametrize("command", [["detect", VLM], ["ls"], ["stats"], ["purge", "-y", "--all"],
                                     ["warm", "--no-hf-cache"], ["export", "-"], ["import", "-"], ["migrate"],
                                     ["doctor"]])
@pytest.mark.parametrize("setting", [("VISION_CACHE_NEGATIVE_TTL", "a week"), ("VISION_CACHE_LEASE_TTL", "1e999"),
                                     ("VISION_CACHE_SIDECAR_PYTHON", "/nonexistent/python"),
                                     ("VISION_CACHE_URL", "http://not-redis"), ("--dir", "")])
def test_every_command_reports_a_bad_setting_in_one_line(vc, monkeypatch, command, setting):
    name, value = setting
    if name.startswith("--"):
        code, out, err = vc(*command, directory=value)
    else:
        monkeypatch.setenv(name, value)
        code, out, err = vc(*command)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1, err
    if name == "VISION_CACHE_URL":
        assert value not in err  # a URL may hold a password: never echoed


def test_a_bad_setting_is_one_line_on_standard_error(vc, monkeypatch):
    monkeypatch.setenv("VISION_CACHE_NEGATIVE_TTL", "a week")
    code, out, err = vc("ls")
    assert (code, out) == (2, "")
    assert err == "error: VISION_CACHE_NEGATIVE_TTL must be a number of seconds, got 'a week'\n"
    result = python_m("ls", env={"VISION_CACHE_NEGATIVE_TTL": "a week"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# -- Ctrl-C -----------------------------------------------------------------------------------------


def test_ctrl_c_in_process_is_one_line_and_130(three_kinds, vc, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(VisionCache, "lookup", interrupted)
    code, out, err = vc("detect", VLM)
    assert (code, out) == (130, "") and err.count("\n") == 1 and err.startswith("interrupted")


def test_ctrl_c_while_the_cache_is_being_built(tmp_path):
    """The store needs a migration whose lease another process holds: `vision-cache` waits inside
    VisionCache() until Ctrl-C, which must give one line, exit code 130, and no traceback."""
    from vision_cache.stores.disk import DiskStore

    folder = tmp_path / "store"
    store = DiskStore(str(folder))
    store.set(Keys.SCHEMA, {"version": 1}, None)
    assert store.add(Keys.MIGRATION_LOCK, "another-process", 120)
    store.close()
    proc = subprocess.Popen([sys.executable, "-m", "vision_cache", "ls", "--dir", str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def opened_the_store() -> None:  # then it waits for the migration lease, still building its cache
        deadline = time.monotonic() + 30
        while not _has_open_file_under(proc.pid, folder) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)

    out, err = interrupt_when(proc, opened_the_store)
    assert proc.returncode == 130, (out, err)
    assert err == "interrupted; the store is consistent (every write is atomic)\n"


def _has_open_file_under(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` has a file in ``folder`` open (Linux; elsewhere: after two seconds)."""
    fds = Path(f"/proc/{pid}/fd")
    if not fds.is_dir():
        time.sleep(2.0)
        return True
    try:
        return any(os.readlink(fd).startswith(str(folder)) for fd in fds.iterdir())
    except OSError:
        return False


# -- the record's documentation -------------------------------------------------------------------


def test_the_record_is_the_documented_one():
    """README.md, "The verdict record", documents exactly the fields of RECORD."""
    text = README.read_text()
    section = text.split("### The verdict record", 1)[1].split("\n#", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)
    assert documented == list(RECORD)
    from vision_cache.bundle import RECORD_FIELDS

    assert RECORD_FIELDS == tuple(RECORD)


def test_source_enum_is_what_records_say():
    assert {s.value for s in Source} == {"memory", "store", "detected", "stale"}


def test_stats_on_an_empty_store_says_none(vc):
    code, out, _ = vc("stats")
    assert code == 0
    assert "entries: none; aliases 0" in out, out
    assert "entries: ," not in out
