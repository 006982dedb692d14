"""No data loss: a run killed with SIGKILL leaves --out complete (old or new), inputs intact.

A complete run is published at ``--out`` first.  Then ``themepipe run`` is started again
as a separate process and killed with SIGKILL at several points: during start-up, at
stage boundaries read from its progress lines on stderr, and a few moments into the
write stage (as soon as its staging folder, or its manifest there, appears).  After
every kill ``--out`` must be, byte for byte, the previous run or a complete new one (the
same bytes, since runs are deterministic, apart from the files
that record the run's time: ``manifest.json`` and the reports), never a mix or a staging
folder; the input files keep their sha256.
"""

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"
CONFIG = MINI / "config.yaml"
INPUTS = [*sorted(MINI.rglob("*")), ROOT / "configs" / "codebook.yaml",
          *sorted((ROOT / "models" / "kajigelem-themes").rglob("*"))]
# Files that record the run itself (start time, timings): checked for completeness only.
RUN_SPECIFIC = {"manifest.json", "report.html", "report.xlsx"}
# (stage whose "✓ <stage>" line triggers the kill, extra delay in seconds, run options):
# with --no-cache every stage computes; with the cache (filled by the previous run) the
# stages are reused and the kill lands in start-up or the write stage.
KILL_POINTS = [(None, 0.3, "--no-cache"), ("ingest", 0.0, "--no-cache"),
               ("preprocess", 0.0, "--no-cache"), ("topics", 0.0, "--no-cache"),
               ("compare", 0.0, "--no-cache"), ("compare", 0.02, "--no-cache"),
               ("compare", 0.06, "--no-cache"), ("compare", 0.15, "--no-cache"),
               ("compare", 0.5, "--no-cache"), ("compare", 1.0, "--no-cache"),
               ("staging:", 0.0, "--no-cache"), ("staging:manifest.json", 0.0, "--no-cache"),
               (None, 2.0, ""), ("compare", 0.0, ""), ("compare", 0.05, ""),
               ("staging:manifest.json", 0.0, ""),
               # streaming runs (several partitions): killed between passes, before publishing
               ("prepare", 0.0, "--set executor.partition_size=3"),
               ("topics", 0.0, "--set executor.partition_size=3"),
               ("classify", 0.0, "--set executor.partition_size=3")]


def checksums(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file visible through the link ``out``, by relative path."""
    target = out.resolve()
    return {str(p.relative_to(target)): p.read_bytes()
            for p in sorted(target.rglob("*")) if p.is_file()}


def command(out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "themepipe.cli", "run", str(CONFIG), "--out", str(out),
            *(part for o in options for part in o.split())]


def start(out: Path, *options: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
    return subprocess.Popen(command(out, *options), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True,
                            encoding="utf-8")


def kill_at(out: Path, stage: str | None, delay: float, *options: str) -> str:
    """Start a run, SIGKILL it after ``stage`` ended plus ``delay``; returns its stderr."""
    versions = out.parent / f".{out.name}.runs"
    stale = set(versions.glob("*.partial"))  # left by earlier kills
    process = start(out, *options)
    seen = []
    if stage is not None and stage.startswith("staging:"):
        # poll until this run's staging folder (holding ``name``, if given) appears
        name = stage.partition(":")[2]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            staged = set(versions.glob("*.partial")) - stale
            if any(not name or (folder / name).exists() for folder in staged):
                break
            time.sleep(0.002)
    elif stage is not None:
        for line in process.stderr:
            seen.append(line)
            if line.split()[1:2] == [stage]:
                break
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)  # no effect if it already finished: checked below
    process.wait(timeout=60)
    process.stderr.close()
    # killed, or (the latest kill points) finished just before the signal
    assert process.returncode in (-signal.SIGKILL, 0, 1), "".join(seen)
    return "".join(seen)


def assert_complete(out: Path, previous: dict[str, bytes]) -> str:
    """``out`` is the previous run or a complete new one; returns which."""
    assert out.is_symlink()
    target = out.resolve()
    assert target.is_dir() and not target.name.endswith(".partial")
    now = snapshot(out)
    if now == previous:
        return "previous"
    assert set(now) == set(previous)
    for name in set(previous) - RUN_SPECIFIC:
        assert now[name] == previous[name], name
    old, new = (json.loads(d["manifest.json"]) for d in (previous, now))
    assert set(new) == set(old)
    assert new["inputs"] == old["inputs"] and new["counts"] == old["counts"]
    if "report.html" in now:
        assert now["report.html"].rstrip().endswith(b"</html>")
    if "report.xlsx" in now:
        with zipfile.ZipFile(io.BytesIO(now["report.xlsx"])) as book:
            assert book.testzip() is None
    return "new"


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("kill") / "run"
    done = subprocess.run(command(out), check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    return out, snapshot(out)


def test_kill_previous_run_is_complete(previous_run):
    _, files = previous_run
    assert {"manifest.json", "segments.csv", "topics.csv", "sources/desa_01.txt"} <= set(files)


@pytest.mark.parametrize("stage, delay, option", KILL_POINTS)
def test_kill_sigkill_leaves_previous_or_new_run(previous_run, stage, delay, option):
    out, files = previous_run
    before = checksums(INPUTS)
    target = out.resolve()
    stderr = kill_at(out, stage, delay, option)
    outcome = assert_complete(out, files)
    outcome = "same" if out.resolve() == target else outcome
    if stage in ("ingest", "preprocess", "topics", "prepare", "classify"):
        assert outcome == "same", stderr
    print(f"killed after {stage} + {delay} s {option}: --out holds "
          + ("the run it held before" if outcome == "same" else "the new run"))
    assert checksums(INPUTS) == before


def test_kill_run_after_kills_publishes_and_cleans_up(previous_run):
    out, files = previous_run
    done = subprocess.run(command(out), check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    assert assert_complete(out, files) == "new"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reused_stages"] == ["ingest", "segment", "preprocess", "topics",
                                         "classify", "compare"]  # the cache survived
    versions = out.parent / f".{out.name}.runs"
    assert not [p for p in versions.iterdir() if p.name.endswith(".partial")]
    assert len([p for p in versions.iterdir()]) <= 3
    assert not [p for p in out.parent.iterdir() if ".link-" in p.name]
