"""Shared fixtures: one run of the bundled corpus per test session."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory):
    """Run ``configs/kajigelem.yaml`` once; returns the RunResult."""
    from themepipe.config import load_config
    from themepipe.pipeline import run

    out = tmp_path_factory.mktemp("bundled") / "run"
    return run(load_config(ROOT / "configs" / "kajigelem.yaml"), out,
               config_path=ROOT / "configs" / "kajigelem.yaml")
