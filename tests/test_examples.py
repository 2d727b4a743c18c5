"""The examples in examples/ run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_studio_lifespan_demo_runs_and_detects_each_model_once(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "studio_lifespan.py"), "--demo",
                           "--store", str(tmp_path / "store")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum("vlm-checkpoint: vision" in line for line in lines) == 3
    assert sum("text-checkpoint: not vision" in line for line in lines) == 3
    assert "2 verdicts in the shared store" in done.stdout


def test_custom_detector_example_runs():
    done = subprocess.run([sys.executable, str(EXAMPLES / "custom_detector.py")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "vision detected | vision store" in done.stdout and "custom/house-rules/2" in done.stdout
