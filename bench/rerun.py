"""Stage cache: first run vs unchanged rerun of the bundled corpus (target rerun < 5 s).

Each run is ``themepipe run configs/kajigelem.yaml`` in a fresh process, so interpreter
and import start-up count.  Prints the wall time of a first run (empty cache), of an
unchanged rerun, of a rerun with a changed ``topics:`` section, and for comparison of a
``--no-cache`` run; with the stages each one reused and the start-up cost alone
(``import themepipe.pipeline``).

    python bench/rerun.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "kajigelem.yaml"


def timed_run(out: Path, *extra: str) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "themepipe.cli", "run", str(CONFIG),
                           "--out", str(out), *extra], check=False, capture_output=True,
                           text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        print(proc.stderr)
        raise SystemExit(f"run failed with exit code {proc.returncode}")
    return elapsed, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def main() -> None:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import themepipe.pipeline"], check=True)
    startup = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        rows = [("first run (empty cache)", *timed_run(out)),
                ("unchanged rerun", *timed_run(out)),
                ("rerun, topics.num_topics changed", *timed_run(
                    out, "--set", "topics.num_topics=10")),
                ("--no-cache", *timed_run(out, "--no-cache"))]
    for name, seconds, manifest in rows:
        reused = ", ".join(manifest["reused_stages"]) or "none"
        print(f"{name:<34} {seconds:6.1f} s   reused: {reused}")
    print(f"{'start-up (import themepipe.pipeline)':<34} {startup:6.1f} s")
    print(f"unchanged rerun: {rows[1][1]:.1f} s vs first run {rows[0][1]:.1f} s "
          "(target < 5 s)")
    print("stage timings of the unchanged rerun (s):", rows[1][2]["timings_s"])


if __name__ == "__main__":
    main()
