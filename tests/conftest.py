"""Shared fixtures: one run of the bundled corpus per test session."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# Hypothesis: "ci" (the default) is repeatable — the same 500 examples per property on
# every run; HYPOTHESIS_PROFILE=dev explores new random examples, fewer of them.
settings.register_profile("ci", max_examples=500, derandomize=True, deadline=None,
                          print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory):
    """Run ``configs/kajigelem.yaml`` once; returns the RunResult."""
    from themepipe.config import load_config
    from themepipe.pipeline import run

    out = tmp_path_factory.mktemp("bundled") / "run"
    return run(load_config(ROOT / "configs" / "kajigelem.yaml"), out,
               config_path=ROOT / "configs" / "kajigelem.yaml")
