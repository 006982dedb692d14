"""Scale of the group comparison statistics: time and peak memory at ~1M segments.

The informant-level arrays of a corpus of about a million segments: 50,000 informants in
6 groups, 6 themes.  Measured, as ``compare.group_tests`` and ``compare.theme_distribution``
run them: the omnibus permutation test (5000 relabelings), the 15 pairwise tests (5000
relabelings each) and the 6 groups' bootstrap intervals (2000 resamples).  Each
implementation runs in a fresh process; peak memory is the process's maximum resident set
(``ru_maxrss``) and numpy's traced peak (``tracemalloc``) over the statistics alone.

    python bench/compare_scale.py [--informants 50000] [--groups 6] [--themes 6]
                                  [--permutations 5000] [--bootstrap 2000]
                                  [--stats FILE ...]

``--stats FILE`` measures another copy of ``themepipe/stats.py`` (e.g. the one before a
change) beside the installed one; the figures are printed as a table.  Timing is wall
clock on a possibly shared machine: compare the CPU seconds column.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np


def _load(path: str | None):
    if path is None:
        from themepipe import stats

        return stats
    spec = importlib.util.spec_from_file_location("stats_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _arrays(n_informants: int, n_groups: int, n_themes: int, seed: int = 0):
    """Informant-level hits/totals/labels like a run's (sorted by group)."""
    rng = np.random.default_rng(seed)
    labels = np.sort(rng.integers(0, n_groups, n_informants))
    totals = rng.integers(5, 40, n_informants).astype(float)
    rates = rng.beta(2, 6, size=(n_informants, n_themes))
    hits = rng.binomial(totals.astype(int)[:, None], rates).astype(float)
    return labels, hits, totals


def measure(args) -> dict:
    """Run the statistics once in this process and return the figures."""
    stats = _load(args.stats_file)
    labels, hits, totals = _arrays(args.informants, args.groups, args.themes)
    shares = hits / totals[:, None]
    stats.expanded_tail(0.95, 10)  # scipy imports outside the measurement
    stats.benjamini_hochberg([0.5])
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    seq = np.random.SeedSequence(0)
    rng = np.random.default_rng(seq.spawn(1)[0])
    stat, p = stats.permutation_test(shares, labels, args.groups, args.permutations, rng)
    omnibus = time.perf_counter() - wall
    pairs = []
    for a in range(args.groups):
        for b in range(a + 1, args.groups):
            pair = (labels == a) | (labels == b)
            pairs.append(stats.permutation_test(shares[pair], (labels[pair] == b).astype(int),
                                                2, args.permutations, rng)[1])
    boot = []
    brng = np.random.default_rng(1)
    t_boot = time.perf_counter()
    for g in range(args.groups):
        boot.append(stats.bootstrap_share_ci(hits[labels == g], totals[labels == g],
                                             args.bootstrap, brng))
    end_wall, end_cpu = time.perf_counter(), time.process_time()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    digest = float(np.sum(p) + sum(np.sum(q) for q in pairs)
                   + sum(np.nansum(lo) + np.nansum(hi) for lo, hi in boot))
    return {"wall_s": end_wall - wall, "cpu_s": end_cpu - cpu, "omnibus_s": omnibus,
            "bootstrap_s": end_wall - t_boot, "traced_peak_mib": traced / 2**20,
            "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "checksum": digest, "statistic0": float(stat[0])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--informants", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=6)
    parser.add_argument("--themes", type=int, default=6)
    parser.add_argument("--permutations", type=int, default=5000)
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--stats", nargs="*", default=[],
                        help="other copies of stats.py to measure beside the installed one")
    parser.add_argument("--stats-file", help=argparse.SUPPRESS)  # one child measurement
    args = parser.parse_args(argv)
    if args.stats_file is not None or args.stats == ["-"]:
        args.stats_file = None if args.stats_file in (None, "-") else args.stats_file
        print(json.dumps(measure(args)))
        return 0
    base = [sys.executable, __file__, "--informants", str(args.informants), "--groups",
            str(args.groups), "--themes", str(args.themes), "--permutations",
            str(args.permutations), "--bootstrap", str(args.bootstrap)]
    print(f"{args.informants} informants, {args.groups} groups, {args.themes} themes; "
          f"{args.permutations} relabelings x (1 omnibus + "
          f"{args.groups * (args.groups - 1) // 2} pairs); {args.bootstrap} bootstrap "
          f"resamples x {args.groups} groups")
    print(f"{'stats':<32}{'wall s':>8}{'CPU s':>8}{'omnibus s':>11}{'boot s':>8}"
          f"{'traced MiB':>12}{'maxrss MiB':>12}  checksum")
    for label, extra in [("installed", ["--stats-file", "-"])] + \
            [(path, ["--stats-file", path]) for path in args.stats]:
        out = subprocess.run(base + extra, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        print(f"{label[-32:]:<32}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}{r['omnibus_s']:>11.1f}"
              f"{r['bootstrap_s']:>8.1f}{r['traced_peak_mib']:>12.0f}{r['maxrss_mib']:>12.0f}"
              f"  {r['checksum']:.12g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
