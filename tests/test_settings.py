"""Settings that a hit depends on, computed without the imports they used to need."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ENVIRONMENTS = [
    {},
    {"XDG_CACHE_HOME": "/srv/cache"},
    {"XDG_CACHE_HOME": "/srv/cache/"},
    {"XDG_CACHE_HOME": ""},
    {"XDG_CACHE_HOME": "relative/cache"},
    {"XDG_CACHE_HOME": "   "},
    {"XDG_CACHE_HOME": " /srv/cache"},
    {"HOME": "/home/someone/"},
    {"HOME": "/"},
    {"HOME": "relative-home"},
    {"HOME": None},
    {"HOME": None, "XDG_CACHE_HOME": "/srv/cache"},
    {"ANDROID_DATA": "/data", "ANDROID_ROOT": "/system"},
]

PROBE = """
import json, platformdirs
from vision_cache import settings
try:
    theirs = platformdirs.user_cache_dir("vision_cache", appauthor=False)
except Exception as exc:
    theirs = type(exc).__name__
try:
    ours = settings.default_directory()
except Exception as exc:
    ours = type(exc).__name__
print(json.dumps([ours, theirs, settings._linux_user_cache_dir(__import__("os").environ) is not None]))
"""


@pytest.mark.parametrize("changes", ENVIRONMENTS, ids=lambda c: json.dumps(c))
def test_the_default_folder_is_the_one_platformdirs_names(changes):
    env = dict(os.environ)
    env.pop("XDG_CACHE_HOME", None)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    ours, theirs, plain = json.loads(out.stdout)
    assert ours == theirs
    if sys.platform.startswith("linux") and changes in ({}, {"XDG_CACHE_HOME": "/srv/cache"}, {"HOME": "/"}):
        assert plain  # the common cases never import platformdirs


def test_the_default_folder_does_not_import_platformdirs_on_linux():
    if not sys.platform.startswith("linux"):
        pytest.skip("the platformdirs rule is applied directly on Linux only")
    out = subprocess.run([sys.executable, "-c", "import sys; from vision_cache.settings import default_directory; "
                          "default_directory(); print('platformdirs' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
