"""The sidecar interpreter gets an allow-listed environment: nothing secret reaches it.

It needs no credential at all (the config arrives on standard input and it never touches the
network), so the Redis URL, Hub tokens and cloud keys of the calling process stay behind.
"""

from __future__ import annotations

import json
import stat
import sys

from vision_cache.detect.detector import DefaultDetector

UNKNOWN_TYPE = {"model_type": "brand_new_arch", "architectures": ["BrandNewForCausalLM"]}
SECRETS = {
    "VISION_CACHE_URL": "redis://:redis-pass-1@10.0.0.5:6379/0",
    "HF_TOKEN": "hf_token_value_2",
    "HUGGING_FACE_HUB_TOKEN": "hf_legacy_value_3",
    "HF_TOKEN_PATH": "/secret/token-path-4",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-5",
    "AWS_SESSION_TOKEN": "aws-session-6",
    "REDIS_PASSWORD": "redis-password-7",
    "OPENAI_API_KEY": "sk-openai-8",
    "DATABASE_URL": "postgres://u:db-pass-9@db/x",
    "GITHUB_TOKEN": "ghp_value_10",
    "PYTHONPATH": "/attacker/site-11",
    "PYTHONSTARTUP": "/attacker/startup-12.py",
    "LD_PRELOAD": "/attacker/preload-13.so",
}


def test_the_sidecar_receives_only_the_allow_listed_environment(tmp_path, monkeypatch):
    dump = tmp_path / "env.json"
    dumper = tmp_path / "dump_env.py"
    dumper.write_text("import json, os, sys\n"
                      "sys.stdin.read()\n"
                      f"json.dump(dict(os.environ), open({str(dump)!r}, 'w'))\n"
                      "print(json.dumps({'transformers': '9.9', 'known_type': False}))\n")
    script = tmp_path / "python"  # stands in for another venv's python; it runs the dumper instead of probe.py
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -I {dumper}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("LC_CTYPE", "C.UTF-8")

    detection = DefaultDetector(sidecar_python=str(script)).judge_config_bytes(json.dumps(UNKNOWN_TYPE).encode())

    assert "transformers 9.9" in detection.evidence
    env = json.loads(dump.read_text())
    leaked = {name for name in SECRETS if name in env} | {v for v in SECRETS.values() if v in json.dumps(env)}
    assert not leaked, leaked
    from vision_cache.detect.fallback import SIDECAR_ENVIRONMENT, SIDECAR_SETTINGS

    passed = {name for name in env if name not in SIDECAR_ENVIRONMENT and not name.startswith("LC_")}
    assert passed <= {"PWD", "SHLVL", "_", *SIDECAR_SETTINGS}, passed  # /bin/sh adds PWD, SHLVL and _
    assert env["LANG"] == "C.UTF-8" and env["LC_CTYPE"] == "C.UTF-8"
    assert env["HF_HUB_OFFLINE"] == "1"  # it never touches the network
