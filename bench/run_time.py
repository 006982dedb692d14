"""Wall time of the main job on the bundled corpus (issue: under 60 s on 2 cores).

Runs ``themepipe run configs/kajigelem.yaml --no-cache`` in a fresh process (so spaCy's
start-up counts and no stage comes from the stage cache), REPEAT times, and prints each
wall time and the median.  ``bench/rerun.py`` measures reruns with the cache.

    python bench/run_time.py [REPEAT]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "themepipe.cli", "run",
                                   str(ROOT / "configs" / "kajigelem.yaml"), "--out",
                                   str(Path(tmp) / "run"), "--no-cache"],
                                  capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if proc.returncode not in (0, 1):
                print(proc.stderr)
                raise SystemExit(f"run failed with exit code {proc.returncode}")
            times.append(elapsed)
            print(f"run {i + 1}: {elapsed:.1f} s (exit {proc.returncode})")
        stages = (Path(tmp) / "run" / "manifest.json").read_text()
    print(f"median wall time of `themepipe run configs/kajigelem.yaml`: "
          f"{statistics.median(times):.1f} s over {repeat} runs (target < 60 s)")
    import json
    print("stage timings of the last run (s):", json.loads(stages)["timings_s"])


if __name__ == "__main__":
    main()
