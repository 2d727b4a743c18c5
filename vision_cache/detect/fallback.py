"""When the raw config.json read is inconclusive: ask transformers, here or in a sidecar interpreter.

In-process, :func:`probe_in_process` imports the installed transformers' config tables (a second
or two, on a miss only). With ``sidecar_python`` set (another venv's python, e.g. one with a
newer transformers), :func:`probe_in_sidecar` runs :mod:`.probe` there instead, with a timeout:
the config goes in on standard input, the command line holds only the two paths, and the
environment is an allow-list (:data:`SIDECAR_ENVIRONMENT`): no token, Redis URL or cloud key.
A timeout, a crash or unreadable output raises :class:`~.failures.SidecarError` (so the verdict
is ``unknown`` and nothing is stored).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from typing import Any

from ..verdict import Kind
from .failures import SidecarError

PROBE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.py")


def probe_in_process(config: dict[str, Any]) -> dict[str, Any]:
    from .probe import probe

    return probe(config)


#: The only variables a sidecar inherits (plus ``LC_*``): enough to start an interpreter (library
#: path, temp folder, locale; SYSTEMROOT on Windows) and for transformers to find its home folder.
#: Everything else stays behind: the Redis URL, Hub tokens, cloud keys. ``PYTHON*`` would be
#: ignored anyway (``-I``), and no HF_* variable is needed since the sidecar never touches the network.
SIDECAR_ENVIRONMENT = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TMPDIR", "TEMP", "TMP",
    "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "USERPROFILE",
})
SIDECAR_SETTINGS = {  # set by us, whatever the caller's environment says
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


def sidecar_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a sidecar runs with: the allow-listed part of ``environ`` (default: ours)."""
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if k in SIDECAR_ENVIRONMENT or k.startswith("LC_")}
    env.update(SIDECAR_SETTINGS)
    return env


def probe_in_sidecar(config: dict[str, Any], python: str, timeout: float) -> dict[str, Any]:
    env = sidecar_environment()
    try:
        done = subprocess.run([python, "-I", PROBE_SCRIPT], input=json.dumps(config).encode("utf-8"),
                              capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise SidecarError(f"timed out after {timeout:g} s") from None
    except OSError as exc:
        raise SidecarError(f"cannot start {python}: {exc.strerror}") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise SidecarError(f"exited with status {done.returncode}: {tail[0][:200]}")
    try:
        answer = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SidecarError("printed no JSON answer") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("transformers"), str):
        raise SidecarError("printed an unexpected answer")
    return answer


def judge_probe(answer: dict[str, Any], model_type: object, generates_text: bool, where: str) -> tuple[Kind, str]:
    """Turn a probe's answer into a verdict (the rules already found no signal in the raw config)."""
    version = f"transformers {answer['transformers']}{where}"
    if answer.get("vision_type"):
        return Kind.VISION, f"model_type {model_type} is image-text-to-text in {version}"
    if answer.get("vision_class"):
        return Kind.VISION, f"architecture {answer['vision_class']} is image-text-to-text in {version}"
    if answer.get("vision_subconfig") and answer.get("text_generator") and generates_text:
        # e.g. phi4_multimodal: images and audio in, text out, filed by transformers under multimodal LMs only
        return Kind.VISION, f"{version}: text generator {model_type} declares a {answer['vision_subconfig']}"
    if answer.get("audio_type"):
        return Kind.NOT_VISION, f"model_type {model_type} takes audio, not images, in {version}"
    if answer.get("known_type"):
        return Kind.NOT_VISION, f"{version} knows model_type {model_type}: no vision input"
    return Kind.NOT_VISION, f"no vision signal; model_type {model_type} unknown to {version}"


def sidecar_transformers_version(python: str) -> str | None:
    """The sidecar's transformers version, read from its package metadata (no subprocess, no import)."""
    from importlib.metadata import distributions

    root = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    lib = os.path.join(root, "lib")
    try:
        candidates = [os.path.join(lib, d, "site-packages") for d in os.listdir(lib) if d.startswith("python")]
    except OSError:
        candidates = []
    candidates.append(os.path.join(root, "Lib", "site-packages"))  # Windows venvs
    for dist in distributions(name="transformers", path=[c for c in candidates if os.path.isdir(c)]):
        return dist.version
    return None
