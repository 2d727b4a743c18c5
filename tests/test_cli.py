"""The ``vision-cache`` command and the Python surface around it (issue 13)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from vision_cache import Kind, VisionCache


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "store"


# -- version, entry points, the Python surface -----------------------------------------------------


def test_version_comes_from_package_metadata():
    import vision_cache

    assert vision_cache.__version__ == importlib.metadata.version("vision_cache")


def test_importing_the_package_stays_cheap():
    code = ("import sys, vision_cache; heavy = [m for m in ('importlib.metadata', 'huggingface_hub', 'transformers') "
            "if m in sys.modules]; print(heavy); vision_cache.__version__; print('importlib.metadata' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


def test_the_package_is_typed():
    import importlib.resources

    assert importlib.resources.files("vision_cache").joinpath("py.typed").is_file()


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
